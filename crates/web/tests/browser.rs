//! The hosted pages in headless Chromium: the real server on `127.0.0.1:0` over the real
//! engine, provider simulator and SMTP sink; `tests/browser/flow.mjs` (playwright-core +
//! axe-core) walks two tenants through a whole reset, with and without JavaScript, checks
//! Acme's rules live as you type (English and `?locale=fr`), and saves a screenshot of
//! every page under `target/screenshots/`.
//!
//! Skips (saying so) when Chromium, Node or the npm packages are missing; CI installs them
//! with `.ci/install.d/browser`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{path::PathBuf, process::Command};

use common::{Harness, link_in, plain_text};
use passgate_web::app;
use poem::{
    Route, Server, handler,
    listener::TcpAcceptor,
    web::{Data, Query},
};

const CHROMIUM: &str = "/usr/bin/chromium";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn missing_tools() -> Option<String> {
    if !std::path::Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing"));
    }
    let modules = workspace().join("tests/browser/node_modules");
    if !modules.join("playwright-core").exists() || !modules.join("axe-core").exists() {
        return Some("tests/browser/node_modules is missing (npm install)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("node is missing".into()),
    }
}

#[derive(serde::Deserialize)]
struct To {
    to: String,
}

/// Test-only: the last reset link mailed to `to` (empty when none yet).
#[handler]
fn last_link(
    Query(q): Query<To>,
    Data(sink): Data<&std::sync::Arc<passgate_smtp_sink::SmtpSink>>,
) -> String {
    sink.received()
        .iter()
        .rev()
        .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(&q.to)))
        .find_map(|m| link_in(&plain_text(m)))
        .unwrap_or_default()
}

/// Test-only: the app's page a finished reset lands on.
#[handler]
fn landed(poem::web::Path(tenant): poem::web::Path<String>) -> poem::web::Html<String> {
    poem::web::Html(format!(
        "<!doctype html><html lang=\"en\"><title>{tenant}</title><main><h1>Back in the {tenant} app</h1></main></html>"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_reset_in_a_real_browser_with_and_without_javascript() {
    if let Some(why) = missing_tools() {
        println!("skipped: browser test needs Chromium, Node and npm packages: {why}");
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mail_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let helper = format!("http://{}", mail_listener.local_addr().unwrap());
    let landing = format!("{helper}/landed");
    let h = Harness::with_landing(&base, Some(&landing)).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn({
        let engine = h.engine.clone();
        let stopped = stopped.clone();
        async move { engine.run_job_worker(stopped).await }
    });
    let outbox = tokio::spawn({
        let engine = h.engine.clone();
        let stopped = stopped.clone();
        async move { engine.run_outbox_worker(stopped).await }
    });
    let server = tokio::spawn(
        Server::new_with_acceptor(TcpAcceptor::from_tokio(listener).unwrap())
            .run(app(h.state.clone())),
    );
    let mail_url = format!("{helper}/last-link");
    let sink = std::sync::Arc::clone(&h.sink);
    let mail_server = tokio::spawn(
        Server::new_with_acceptor(TcpAcceptor::from_tokio(mail_listener).unwrap()).run(
            poem::EndpointExt::data(
                Route::new()
                    .at("/last-link", last_link)
                    .at("/landed/:tenant", landed),
                sink,
            ),
        ),
    );

    let shots = workspace().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = workspace().join("tests/browser/flow.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("BASE_URL", &base)
            .env("MAIL_URL", &mail_url)
            .env("LANDING_URL", &landing)
            .env("SCREENSHOT_DIR", &shots)
            .env("CHROMIUM", CHROMIUM)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));

    stop.send(true).unwrap();
    server.abort();
    mail_server.abort();
    let _ = tokio::join!(jobs, outbox);
    assert!(
        output.status.success(),
        "the browser flow failed (output above)"
    );
    assert_eq!(
        h.password_patches(),
        5,
        "two JS resets, one without JavaScript, two on Acme's live-rules page"
    );
}
