//! Property-based fuzzing of the admin API with schemathesis (installed by
//! `.ci/install.d/schemathesis`): the real server on `127.0.0.1:0` with a temp SQLite store
//! and a platform-admin key, every operation of `/admin/openapi.json`, every check — no 5xx,
//! every response conforming to the documented status codes, content types and schemas.
//! Skips (and says so) when schemathesis is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;

use std::path::PathBuf;
use std::process::Command;

use passgate_web::admin::routes;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Route, Server};

fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PASSGATE_SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/schemathesis/venv/bin/schemathesis");
    venv.exists().then_some(venv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_errors_or_schema_violations() {
    let Some(binary) = schemathesis() else {
        eprintln!("skipped: schemathesis is not installed (run .ci/install.d/schemathesis)");
        return;
    };
    // Schemathesis sends thousands of requests with one key under a fixed clock: lift the
    // per-key budgets (admin_limits.rs tests them).
    let h = admin_common::harness_with(passgate_web::admin::AdminSettings {
        requests_per_minute: 1_000_000,
        expensive_requests_per_minute: 1_000_000,
        ..passgate_web::admin::AdminSettings::default()
    })
    .await;
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = Route::new().nest("/admin", routes(h.state.clone()));
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

    let base = format!("http://{addr}");
    let admin = h.admin.clone();
    let output = tokio::task::spawn_blocking(move || {
        // Run in a scratch directory: schemathesis keeps an example database in its cwd.
        let cwd = tempfile::tempdir().unwrap();
        // A body over the admin API's size limit is refused before it is parsed, with 413
        // (RFC 9110): a right answer to schema-violating data too.
        std::fs::write(
            cwd.path().join("schemathesis.toml"),
            "[checks.negative_data_rejection]\n\
             expected-statuses = [\"400\", \"401\", \"403\", \"404\", \"405\", \"406\", \
             \"409\", \"413\", \"415\", \"422\", \"428\", \"429\"]\n",
        )
        .unwrap();
        Command::new(binary)
            .current_dir(cwd.path())
            .env("NO_COLOR", "1")
            .args([
                "run",
                &format!("{base}/admin/openapi.json"),
                "--url",
                &format!("{base}/admin/v1"),
                "--header",
                &format!("Authorization: Bearer {admin}"),
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "20",
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "1",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
}
