//! `passgate serve` as an operator runs it: configuration validated at boot (every problem at
//! once, no start without keys), a database with pending migrations refused, and a migrated
//! one served with probes and metrics until SIGTERM, which it survives with a clean exit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn passgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_passgate"));
    command
        .env_clear()
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    command
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.sqlite").display()
    )
}

fn full_env(command: &mut Command, database_url: &str) {
    command
        .env("PASSGATE_PUBLIC_URL", "https://reset.example.test")
        .env("PASSGATE_LISTEN", "127.0.0.1:0")
        .env("PASSGATE_DATABASE_URL", database_url)
        .env("PASSGATE_MASTER_KEYS", KEY)
        .env("PASSGATE_SMTP_HOST", "127.0.0.1")
        .env("PASSGATE_SMTP_SECURITY", "plain");
}

#[test]
fn without_configuration_it_lists_every_problem_and_does_not_start() {
    let output = passgate().arg("serve").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "PASSGATE_PUBLIC_URL",
        "PASSGATE_DATABASE_URL",
        "PASSGATE_MASTER_KEYS",
        "PASSGATE_SMTP_HOST",
    ] {
        assert!(stderr.contains(key), "{key} missing from:\n{stderr}");
    }
}

#[test]
fn check_validates_without_starting() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = passgate();
    full_env(&mut command, &sqlite_url(&dir));
    let output = command.args(["serve", "--check"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("configuration is valid"));
}

#[test]
fn a_database_with_pending_migrations_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = passgate();
    full_env(&mut command, &sqlite_url(&dir));
    let output = command.arg("serve").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("passgate migrate"));
}

/// `passgate serve` on a freshly migrated SQLite file in `dir`: the child and its address.
fn serve_fresh(dir: &tempfile::TempDir) -> (std::process::Child, String) {
    let url = sqlite_url(dir);
    let migrated = passgate()
        .env("PASSGATE_DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let mut command = passgate();
    full_env(&mut command, &url);
    let mut child = command
        .env("PASSGATE_LOG_FORMAT", "json")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("passgate serving on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}

#[test]
fn pipeline_metrics_are_scraped_at_zero_from_the_first_second() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve_fresh(&dir);
    passgate_idp::install_crypto_provider();
    // The very first request the gateway answers: no reset, no mail, no provider call yet.
    let metrics = reqwest::blocking::get(format!("http://{addr}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    for series in [
        "passgate_pipeline_jobs_depth",
        "passgate_pipeline_jobs_oldest_age_seconds",
        "passgate_outbox_depth",
        "passgate_outbox_oldest_age_seconds",
        "passgate_pipeline_jobs_done_total",
        "passgate_pipeline_mails_sent_total",
        "passgate_pipeline_provider_waits_total",
        "passgate_pipeline_provider_wait_milliseconds_total",
    ] {
        assert!(
            metrics.lines().any(|l| l == format!("{series} 0")),
            "{series} is not at 0 in:\n{metrics}"
        );
    }
}

#[test]
fn it_serves_probes_and_metrics_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve_fresh(&dir);

    passgate_idp::install_crypto_provider();
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| http.get(format!("http://{addr}{path}")).send().unwrap();
    assert_eq!(get("/healthz").status(), 200);
    let ready = get("/readyz");
    assert_eq!(ready.status(), 200);
    assert!(ready.text().unwrap().contains("ready"));
    let metrics = get("/metrics");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .unwrap()
            .contains("passgate_http_requests_total{route=\"/readyz\",status=\"200\"}")
    );
    // The pages answer only for the configured public host.
    assert_eq!(get("/reset?client_id=anything").status(), 400);
    // The demo's mailbox does not exist here.
    let mailbox = http
        .get(format!("http://{addr}/dev/mailbox.json"))
        .header("Host", "reset.example.test")
        .send()
        .unwrap();
    assert_eq!(mailbox.status(), 404);
    // Only the probes' own paths are outside the app: a path below one is the app's 404,
    // with its security headers (and its Host check).
    let below = http
        .get(format!("http://{addr}/healthz/more"))
        .header("Host", "reset.example.test")
        .send()
        .unwrap();
    assert_eq!(below.status(), 404);
    assert_eq!(
        below
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(status.success(), "exit {status}:\n{logs}");
    assert!(logs.contains("stopped"), "{logs}");
    for line in logs.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
    }
}

/// A tenant whose `reset.mode` cannot run on the provider it is bound to is a boot error
/// naming the tenant, the mode and what fits (issue 14 item 5).
#[test]
fn a_reset_mode_that_does_not_fit_its_provider_stops_the_start() {
    use passgate_store::{JanrainBinding, ProviderBinding, Store, TenantRepo};
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    for args in [&["migrate"][..], &["tenant", "import", "tenants/"][..]] {
        let mut command = passgate();
        command.env("PASSGATE_DATABASE_URL", &url).args(args);
        let output = command.output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = Store::connect(&url).await.unwrap();
            let fitlife = passgate_tenant::TenantId::parse("fitlife").unwrap();
            let binding = JanrainBinding::new("fitlife.us.janraincapture.com", "capture");
            store
                .set_provider(
                    &fitlife,
                    ProviderBinding::Janrain(binding),
                    chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                )
                .await
                .unwrap();
        });
    let mut command = passgate();
    full_env(&mut command, &url);
    let mut child = command
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the gateway started although a tenant's mode does not fit its provider");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "fitlife: reset.mode `auth0_ticket` does not fit the tenant's Janrain binding"
        ),
        "{stderr}"
    );
}
