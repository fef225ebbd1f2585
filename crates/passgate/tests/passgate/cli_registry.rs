//! `passgate migrate` and `passgate tenant import|export|list` on a fresh SQLite file, and on
//! a fresh PostgreSQL schema when `PASSGATE_TEST_POSTGRES_URL` is set: the real binary, real
//! files, exit codes and output lines.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};

use passgate_testkit::paths::workspace_root as workspace;

/// A directory of its own for each test.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli_registry-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary against `db` (passed through the environment variable, as operators do).
fn passgate(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passgate"))
        .args(args)
        .current_dir(workspace())
        .env("PASSGATE_DATABASE_URL", db)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Asserts success and returns stdout.
fn ok(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A copy of the example tenants that a test may edit.
fn tenants_copy(dir: &Path) -> PathBuf {
    let copy = dir.join("tenants");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(workspace().join("tenants")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
    }
    copy
}

/// Each example tenant's granted sender domains, read through the store.
fn sender_domains(db: &str) -> Vec<(&'static str, Vec<String>)> {
    use passgate_store::{MailGrant, MailGrantRepo, Store};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::connect(db).await.unwrap();
        let mut out = Vec::new();
        for id in ["acme-shop", "fitlife", "northbank", "riverline"] {
            let tenant = passgate_tenant::TenantId::parse(id).unwrap();
            let domains = store
                .mail_grants(&tenant, MailGrant::SenderDomain)
                .await
                .unwrap();
            out.push((id, domains));
        }
        out
    })
}

fn registry_round_trip(db: &str, dir: &Path) {
    assert!(ok(passgate(db, &["migrate"])).contains("applied"));
    assert_eq!(ok(passgate(db, &["migrate"])), "database is up to date\n");

    let first = ok(passgate(db, &["tenant", "import", "tenants/"]));
    assert_eq!(
        first,
        "acme-shop: created\nfitlife: created\nnorthbank: created\nriverline: created\n"
    );
    // The operator's import grants each tenant its own sender domain, and nothing more.
    assert_eq!(
        sender_domains(db),
        [
            ("acme-shop", vec!["acme.example".to_owned()]),
            ("fitlife", vec!["fitlife.example".to_owned()]),
            ("northbank", vec!["northbank.example".to_owned()]),
            ("riverline", vec!["riverline.example".to_owned()]),
        ]
    );
    let again = ok(passgate(db, &["tenant", "import", "tenants/"]));
    assert_eq!(
        again,
        "acme-shop: unchanged\nfitlife: unchanged\nnorthbank: unchanged\nriverline: unchanged\n"
    );

    let exported = ok(passgate(db, &["tenant", "export", "acme-shop"]));
    let original = std::fs::read_to_string(workspace().join("tenants/acme-shop.yaml")).unwrap();
    assert_eq!(exported, original, "export gives the YAML byte for byte");

    let list = ok(passgate(db, &["tenant", "list"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 5, "{list}");
    assert!(lines[1].starts_with("acme-shop"), "{list}");
    assert!(
        lines[1].contains("active") && lines[1].contains("v1"),
        "{list}"
    );
    assert!(
        lines[1].contains("acme-shop-android, acme-shop-ios"),
        "{list}"
    );

    // A changed file makes a new version; the others stay.
    let copy = tenants_copy(dir);
    let acme = copy.join("acme-shop.yaml");
    let edited = original.replace("display_name: Acme Shop\n", "display_name: Acme Store\n");
    std::fs::write(&acme, &edited).unwrap();
    let copy_arg = copy.display().to_string();
    let updated = ok(passgate(db, &["tenant", "import", &copy_arg]));
    assert_eq!(
        updated,
        "acme-shop: updated (v2)\nfitlife: unchanged\nnorthbank: unchanged\nriverline: unchanged\n"
    );
    assert_eq!(ok(passgate(db, &["tenant", "export", "acme-shop"])), edited);

    // One bad file aborts everything, with its positions, and changes nothing.
    std::fs::write(
        &acme,
        original.replace("display_name: Acme Shop\n", "display_name: Acme Again\n"),
    )
    .unwrap();
    std::fs::write(
        copy.join("zz-broken.yaml"),
        "id: broken\ndisplay_name: Broken\nclient_ids: [broken-app]\nno_such_key: 1\n",
    )
    .unwrap();
    let refused = passgate(db, &["tenant", "import", &copy_arg]);
    assert_eq!(refused.status.code(), Some(1));
    let errors = text(&refused.stderr);
    assert!(errors.contains("zz-broken.yaml:4:1:"), "{errors}");
    assert!(errors.contains("nothing was changed"), "{errors}");
    assert!(text(&refused.stdout).is_empty());
    assert_eq!(ok(passgate(db, &["tenant", "export", "acme-shop"])), edited);
    assert_eq!(ok(passgate(db, &["tenant", "list"])).lines().count(), 5);

    let unknown = passgate(db, &["tenant", "export", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("unknown tenant nobody"));
}

#[test]
fn registry_on_sqlite() {
    let dir = scratch("sqlite");
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.join("passgate.sqlite").display()
    );
    registry_round_trip(&db, &dir);
}

#[test]
fn commands_refuse_an_unmigrated_database() {
    let dir = scratch("unmigrated");
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.join("passgate.sqlite").display()
    );
    let out = passgate(&db, &["tenant", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("passgate migrate"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn registry_on_postgres() {
    let Some(url) = passgate_testkit::postgres::test_url() else {
        return;
    };
    let schema = format!("passgate_test_cli_{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin = runtime.block_on(Database::connect(&url)).unwrap();
    runtime
        .block_on(admin.execute_unprepared(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        )))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{separator}options[search_path]={schema}");
    registry_round_trip(&db, &scratch("postgres"));
    runtime
        .block_on(admin.execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")))
        .unwrap();
}
