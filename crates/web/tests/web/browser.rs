//! The hosted pages in headless Chromium: the real server on `127.0.0.1:0` over the real
//! engine, provider simulator and SMTP sink. `tests/browser/flow.mjs` (playwright-core +
//! axe-core) walks two tenants through a whole reset, with and without JavaScript (and
//! Acme without JavaScript), checks Acme's rules live as you type (English and
//! `?locale=fr`), and saves a screenshot of every page under `target/screenshots/`.
//! `tests/browser/sweep.mjs` sweeps every example tenant's pages, states, viewports,
//! locales and mails through axe-core, screenshots in `target/screens/`.
//!
//! Skips (saying so) only when Chromium is missing; with Chromium present, missing Node or
//! npm packages fail the test. CI installs all three with `.ci/install.d/browser`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::Command;

use common::{Harness, html_of, link_in, plain_text};
use passgate_web::app;
use poem::{
    Route, Server, handler,
    listener::TcpAcceptor,
    web::{Data, Query},
};

const CHROMIUM: &str = "/usr/bin/chromium";

/// `Some(why)` when Chromium is absent (the tests then skip). With Chromium present, Node
/// and the npm packages must be there too: `.ci/install.d/browser` installs all three.
pub(crate) fn missing_tools() -> Option<String> {
    if !std::path::Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing"));
    }
    let modules = passgate_testkit::paths::workspace_root().join("tests/browser/node_modules");
    assert!(
        modules.join("playwright-core").exists() && modules.join("axe-core").exists(),
        "Chromium is installed but tests/browser/node_modules is not: run .ci/install.d/browser"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|out| out.status.success()),
        "Chromium is installed but node is not: run .ci/install.d/browser"
    );
    None
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

/// Test-only: every mail received for `to`, oldest first, as `{subject, html, text}`.
#[handler]
fn mails_of(
    Query(q): Query<To>,
    Data(sink): Data<&std::sync::Arc<passgate_smtp_sink::SmtpSink>>,
) -> poem::web::Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = sink
        .received()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(&q.to)))
        .map(|m| serde_json::json!({ "html": html_of(m), "text": plain_text(m) }))
        .collect();
    poem::web::Json(serde_json::Value::Array(list))
}

/// The real server, its workers and the test's helper server (mail look-ups, the app's
/// landing page), all on `127.0.0.1:0`.
pub(crate) struct Served {
    pub(crate) h: Harness,
    pub(crate) base: String,
    helper: String,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Served {
    async fn start(tenants: impl FnOnce(&str) -> Vec<passgate_tenant::ValidatedTenant>) -> Self {
        Self::serve(
            |base, landing| async move { Harness::with_tenants(&base, tenants(&landing)).await },
            |h| app(h.state.clone()),
        )
        .await
    }

    /// Serves the app `endpoint` builds over the harness `harness` builds from the server's
    /// base URL and the landing page's URL.
    pub(crate) async fn serve<F, Fut>(
        harness: F,
        endpoint: impl FnOnce(&Harness) -> poem::endpoint::BoxEndpoint<'static>,
    ) -> Self
    where
        F: FnOnce(String, String) -> Fut,
        Fut: std::future::Future<Output = Harness>,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mail_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let helper = format!("http://{}", mail_listener.local_addr().unwrap());
        let landing = format!("{helper}/landed");
        let h = harness(base.clone(), landing).await;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for outbox in [false, true] {
            let engine = h.engine.clone();
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                if outbox {
                    engine.run_outbox_worker(stopped).await;
                } else {
                    engine.run_job_worker(stopped).await;
                }
            }));
        }
        let app_server =
            Server::new_with_acceptor(TcpAcceptor::from_tokio(listener).unwrap()).run(endpoint(&h));
        tasks.push(tokio::spawn(async move {
            let _ = app_server.await;
        }));
        let helper_server = Server::new_with_acceptor(
            TcpAcceptor::from_tokio(mail_listener).unwrap(),
        )
        .run(poem::EndpointExt::data(
            Route::new()
                .at("/last-link", last_link)
                .at("/mails", mails_of)
                .at("/landed/:tenant", landed),
            std::sync::Arc::clone(&h.sink),
        ));
        tasks.push(tokio::spawn(async move {
            let _ = helper_server.await;
        }));
        Self {
            h,
            base,
            helper,
            stop,
            tasks,
        }
    }

    /// Runs `tests/browser/<script>` against this server; its output is printed.
    pub(crate) async fn run(&self, script: &str, shots: &str) -> bool {
        self.run_with(script, shots, Vec::new()).await
    }

    /// [`Self::run`] with more environment variables for the script.
    pub(crate) async fn run_with(
        &self,
        script: &str,
        shots: &str,
        extra: Vec<(&'static str, String)>,
    ) -> bool {
        let shots = passgate_testkit::paths::workspace_root().join(shots);
        std::fs::create_dir_all(&shots).unwrap();
        let script = passgate_testkit::paths::workspace_root()
            .join("tests/browser")
            .join(script);
        let mut envs = vec![
            ("BASE_URL", self.base.clone()),
            ("MAIL_URL", format!("{}/last-link", self.helper)),
            ("MAILS_URL", format!("{}/mails", self.helper)),
            ("LANDING_URL", format!("{}/landed", self.helper)),
            ("SCREENSHOT_DIR", shots.display().to_string()),
            ("CHROMIUM", CHROMIUM.to_owned()),
        ];
        envs.extend(extra);
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(script)
                .envs(envs)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        println!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        output.status.success()
    }

    pub(crate) async fn stop(self) -> Harness {
        self.stop.send(true).unwrap();
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
        self.h
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_reset_in_a_real_browser_with_and_without_javascript() {
    if let Some(why) = missing_tools() {
        println!("skipped: browser test needs Chromium: {why}");
        return;
    }
    let served = Served::start(|landing| common::fixtures_with(Some(landing))).await;
    let ok = served.run("flow.mjs", "target/screenshots").await;
    let h = served.stop().await;
    assert!(ok, "the browser flow failed (output above)");
    assert_eq!(
        h.password_patches(),
        6,
        "two JS resets, two without JavaScript (FitLife, Acme), two on Acme's live-rules page"
    );
}

/// Issue 16's sweep: every example tenant × page × state × viewport (390×844, 1280×800) ×
/// locale, and every mail, through axe-core (0 violations on pages, nothing serious or
/// critical in mails), no horizontal overflow, no broken image; screenshots in
/// `target/screens/<tenant>-<page>-<state>-<viewport>-<locale>.png` for CI artefacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_screen_and_mail_passes_axe_at_both_viewports() {
    if let Some(why) = missing_tools() {
        println!("skipped: browser sweep needs Chromium: {why}");
        return;
    }
    let served = Served::start(|landing| common::examples_with(Some(landing))).await;
    let ok = served.run("sweep.mjs", "target/screens").await;
    let h = served.stop().await;
    assert!(ok, "the browser sweep failed (output above)");
    assert_eq!(
        h.password_patches(),
        5,
        "a reset per locale of Acme (fr, en), Northbank (en) and Riverline (en, es); FitLife's \
         link is an Auth0 ticket"
    );
}
