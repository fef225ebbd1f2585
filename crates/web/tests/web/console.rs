//! The console (`/console`): the session and CSRF rules in process (sign in, the cookie's
//! flags, the same role and scope as the key, CSRF on every write, idle and absolute
//! timeouts, sign out, revoked keys), then the acceptance walk in headless Chromium
//! (`tests/browser/console.mjs`): a product owner edits, previews, publishes and rolls back
//! their app while the live reset page follows; they cannot reach another app; a platform
//! admin onboards a new app whose reset page works; axe-core on every console screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::TimeDelta;
use passgate_engine::mail::DevMailbox;
use passgate_store::{
    ApiKeyId, ApiKeyRepo, ApiRole, AuditRepo, ConfigVersionRepo, ConsoleSessionRepo, Store,
    TenantRepo,
};
use passgate_tenant::TenantId;
use passgate_web::AppBuilder;
use passgate_web::admin::auth::create_key;
use passgate_web::admin::{AdminParts, AdminSettings, AdminState};
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use secrecy::ExposeSecret;

use crate::browser::{Served, missing_tools};
use crate::common::{self, HOST, Harness};

/// The session cookie's name.
const COOKIE: &str = "__Host-passgate_console";

/// Vault (default theme, English, 12 characters), with links rather than codes so the
/// browser walk opens the mailed link.
fn vault() -> String {
    common::VAULT.replace("delivery: code", "delivery: link")
}

/// The tenants the console tests edit: Vault and Northbank (bank theme, French).
fn tenants() -> [String; 2] {
    [vault(), common::NORTHBANK.to_owned()]
}

async fn stored_harness(base: &str) -> Harness {
    let texts = tenants();
    let yamls: Vec<&str> = texts.iter().map(String::as_str).collect();
    Harness::with_stored_tenants(base, &yamls).await
}

/// The admin API's state over the harness's store, keyring, themes and clock, with the
/// default budgets.
fn admin_state(h: &Harness, public_origin: &str) -> AdminState {
    admin_state_with(h, public_origin, AdminSettings::default())
}

pub(crate) fn admin_state_with(
    h: &Harness,
    public_origin: &str,
    settings: AdminSettings,
) -> AdminState {
    AdminState::new(AdminParts {
        store: h.store.clone(),
        router: None,
        keyring: h.keyring.clone(),
        themes: Arc::clone(&h.state.themes),
        clock: Arc::new(h.clock.clone()),
        mailer: Arc::new(DevMailbox::new()),
        settings: AdminSettings {
            public_origin: public_origin.to_owned(),
            provider_hosts: passgate_idp::HostPolicy {
                custom_domains: Vec::new(),
                allow_insecure_loopback_for_tests: true,
            },
            ..settings
        },
    })
}

/// Pages, admin API and console, as `passgate serve` nests them.
fn console_app(h: &Harness, public_origin: &str) -> BoxEndpoint<'static> {
    nest_console(h, admin_state(h, public_origin))
}

pub(crate) fn nest_console(h: &Harness, admin: AdminState) -> BoxEndpoint<'static> {
    AppBuilder::new(h.state.clone())
        .nest("/admin", passgate_web::admin::routes(admin.clone()))
        .nest(
            passgate_web::console::BASE,
            passgate_web::console::routes(admin),
        )
        .build()
}

async fn key(
    store: &Store,
    role: ApiRole,
    tenants: &[&str],
    label: &str,
    h: &Harness,
) -> (ApiKeyId, String) {
    let tenants = tenants
        .iter()
        .map(|t| TenantId::parse(t).unwrap())
        .collect();
    let now = passgate_engine::Clock::now(&h.clock);
    let (id, minted) = create_key(store, role, tenants, label.into(), now)
        .await
        .unwrap();
    (id, minted.secret.expose_secret().to_owned())
}

struct InProcess {
    h: Harness,
    client: TestClient<BoxEndpoint<'static>>,
    editor: String,
    editor_id: ApiKeyId,
}

async fn in_process() -> InProcess {
    let h = stored_harness(common::BASE).await;
    let client = TestClient::new(console_app(&h, common::BASE));
    let (editor_id, editor) = key(
        &h.store,
        ApiRole::TenantEditor,
        &["vault"],
        "Vera (Vault PO)",
        &h,
    )
    .await;
    InProcess {
        h,
        client,
        editor,
        editor_id,
    }
}

/// The value and the whole `Set-Cookie` line of cookie `name` in `resp`.
pub(crate) fn cookie_value(resp: &TestResponse, name: &str) -> Option<(String, String)> {
    resp.0
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_owned();
            (value, v.to_owned())
        })
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"));
    html[at + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// A signed-in session: its cookie and the page's CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl InProcess {
    /// Signs in with `key` through the form; returns the response of the sign-in POST.
    async fn sign_in_response(&self, key: &str) -> TestResponse {
        let page = self
            .client
            .get("/console/")
            .header("Host", HOST)
            .send()
            .await;
        page.assert_status_is_ok();
        let (pre, _) = cookie_value(&page, "__Host-pg-csrf").expect("a CSRF cookie for the form");
        let html = page.0.into_body().into_string().await.unwrap();
        let token = hidden(&html, "csrf_token");
        self.client
            .post("/console/sign-in")
            .header("Host", HOST)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", format!("__Host-pg-csrf={pre}"))
            .content_type("application/x-www-form-urlencoded")
            .body(format!("csrf_token={token}&key={key}"))
            .send()
            .await
    }

    async fn sign_in(&self, key: &str) -> Session {
        let resp = self.sign_in_response(key).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        let (cookie, _) = cookie_value(&resp, COOKIE).expect("a session cookie");
        let home = self
            .client
            .get("/console/")
            .header("Host", HOST)
            .header("Cookie", format!("{COOKIE}={cookie}"))
            .send()
            .await;
        home.assert_status_is_ok();
        let html = home.0.into_body().into_string().await.unwrap();
        let csrf = html
            .split("data-csrf=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the page carries the session's CSRF token")
            .to_owned();
        Session { cookie, csrf }
    }

    /// `PUT …/config` of `tenant` with the session, `csrf` as its header (if any).
    async fn publish(
        &self,
        s: &Session,
        tenant: &str,
        csrf: Option<&str>,
        yaml: &str,
    ) -> TestResponse {
        let active = self.active_version(tenant).await;
        let mut req = self
            .client
            .put(format!("/admin/v1/tenants/{tenant}/config"))
            .header("Host", HOST)
            .header("Cookie", format!("{COOKIE}={}", s.cookie))
            .header("If-Match", format!("\"{active}\""))
            .header("Sec-Fetch-Site", "same-origin")
            .content_type("application/yaml")
            .body(yaml.to_owned());
        if let Some(csrf) = csrf {
            req = req.header("X-CSRF-Token", csrf);
        }
        req.send().await
    }

    async fn active_version(&self, tenant: &str) -> u32 {
        self.h
            .store
            .active_version(&TenantId::parse(tenant).unwrap())
            .await
            .unwrap()
            .unwrap()
            .info
            .version
    }

    async fn get_config(&self, s: &Session, tenant: &str) -> TestResponse {
        self.get_as(s, &format!("/admin/v1/tenants/{tenant}/config"))
            .await
    }

    /// `POST path` with the session's cookie, CSRF header and a JSON body.
    async fn post_as(&self, s: &Session, path: &str, body: serde_json::Value) -> TestResponse {
        self.client
            .post(path)
            .header("Host", HOST)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", format!("{COOKIE}={}", s.cookie))
            .header("X-CSRF-Token", &s.csrf)
            .body_json(&body)
            .send()
            .await
    }

    /// `GET path` with the session's cookie.
    async fn get_as(&self, s: &Session, path: &str) -> TestResponse {
        self.client
            .get(path)
            .header("Host", HOST)
            .header("Cookie", format!("{COOKIE}={}", s.cookie))
            .send()
            .await
    }
}

fn vault_with(min_length: u32) -> String {
    vault().replace("min_length: 12", &format!("min_length: {min_length}"))
}

#[tokio::test]
async fn signing_in_sets_a_strict_host_cookie_and_is_audited_under_the_key_label() {
    let t = in_process().await;
    let resp = t.sign_in_response(&t.editor).await;
    resp.assert_status(StatusCode::SEE_OTHER);
    let (value, raw) = cookie_value(&resp, COOKIE).unwrap();
    assert_eq!(value.len(), 43, "256 random bits, base64url");
    for flag in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(raw.contains(flag), "{flag} missing from {raw}");
    }
    assert!(!raw.contains("Domain"), "a __Host- cookie names no domain");
    let audit = t.h.store.all_audit(20, None).await.unwrap();
    let event = audit
        .iter()
        .find(|e| e.event.action == "console.sign_in")
        .unwrap();
    assert!(
        event.event.actor.contains("Vera (Vault PO)"),
        "{}",
        event.event.actor
    );
}

#[tokio::test]
async fn a_wrong_key_gets_no_session_and_is_audited_as_denied() {
    let t = in_process().await;
    let resp = t.sign_in_response("pgk_not-a-real-key").await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    assert!(cookie_value(&resp, COOKIE).is_none());
    let audit = t.h.store.all_audit(20, None).await.unwrap();
    assert!(audit.iter().any(
        |e| e.event.action == "admin.access_denied" && e.event.outcome == "denied:unknown_key"
    ));
}

#[tokio::test]
async fn a_session_acts_as_its_key_with_the_same_scope() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    t.get_config(&s, "vault").await.assert_status_is_ok();
    // Another tenant: 403 by API and by URL, as for the key itself.
    t.get_config(&s, "northbank")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let preview = t
        .post_as(
            &s,
            "/admin/v1/tenants/northbank/preview",
            serde_json::json!({ "page": "request" }),
        )
        .await;
    preview.assert_status(StatusCode::FORBIDDEN);
    let published = t
        .publish(&s, "northbank", Some(&s.csrf), common::NORTHBANK)
        .await;
    published.assert_status(StatusCode::FORBIDDEN);
    t.get_as(&s, "/console/tenants/northbank")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    t.get_as(&s, "/console/tenants/vault")
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn a_write_without_the_csrf_token_changes_nothing() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    let before = t.active_version("vault").await;
    for csrf in [None, Some("wrong-token"), Some("")] {
        let resp = t.publish(&s, "vault", csrf, &vault_with(14)).await;
        resp.assert_status(StatusCode::FORBIDDEN);
        resp.assert_content_type("application/problem+json");
        assert_eq!(
            t.active_version("vault").await,
            before,
            "{csrf:?} changed the config"
        );
    }
    // Even with the token, a write another site sent is refused.
    for (name, value) in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Origin", "https://evil.example"),
    ] {
        let resp = t
            .client
            .put("/admin/v1/tenants/vault/config")
            .header("Host", HOST)
            .header(name, value)
            .header("Cookie", format!("{COOKIE}={}", s.cookie))
            .header("X-CSRF-Token", &s.csrf)
            .header("If-Match", format!("\"{before}\""))
            .content_type("application/yaml")
            .body(vault_with(14))
            .send()
            .await;
        resp.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(
            t.active_version("vault").await,
            before,
            "{name}: {value} changed the config"
        );
    }
    let audit = t.h.store.all_audit(50, None).await.unwrap();
    assert!(audit.iter().any(|e| e.event.outcome == "denied:csrf"));
    // With the token the same write goes through.
    let resp = t.publish(&s, "vault", Some(&s.csrf), &vault_with(14)).await;
    resp.assert_status(StatusCode::CREATED);
    assert_eq!(t.active_version("vault").await, before + 1);
}

#[tokio::test]
async fn an_idle_session_ends_after_thirty_minutes_and_changes_nothing() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    t.h.clock.advance(TimeDelta::minutes(29));
    t.get_config(&s, "vault").await.assert_status_is_ok();
    t.h.clock.advance(TimeDelta::minutes(30));
    let before = t.active_version("vault").await;
    let resp = t.publish(&s, "vault", Some(&s.csrf), &vault_with(14)).await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    resp.assert_content_type("application/problem+json");
    assert_eq!(t.active_version("vault").await, before);
    // And it stays ended.
    t.h.clock.advance(TimeDelta::minutes(-30));
    t.get_config(&s, "vault")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_busy_session_still_ends_twelve_hours_after_sign_in() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    for _ in 0..35 {
        t.h.clock.advance(TimeDelta::minutes(20));
        t.get_config(&s, "vault").await.assert_status_is_ok();
    }
    t.h.clock.advance(TimeDelta::minutes(20));
    t.get_config(&s, "vault")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_needs_the_csrf_field_and_ends_the_session() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    let sign_out = |csrf: &str| {
        t.client
            .post("/console/sign-out")
            .header("Host", HOST)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", format!("{COOKIE}={}", s.cookie))
            .content_type("application/x-www-form-urlencoded")
            .body(format!("csrf_token={csrf}"))
            .send()
    };
    sign_out("forged")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    t.get_config(&s, "vault").await.assert_status_is_ok();
    let resp = sign_out(&s.csrf).await;
    resp.assert_status(StatusCode::SEE_OTHER);
    let (cleared, _) = cookie_value(&resp, COOKIE).unwrap();
    assert!(cleared.is_empty());
    t.get_config(&s, "vault")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_left_idle_are_deleted_when_someone_signs_in() {
    let t = in_process().await;
    let left = t.sign_in(&t.editor).await;
    let row = passgate_store::Sha256Digest::of(left.cookie.as_bytes());
    assert!(t.h.store.console_session(&row).await.unwrap().is_some());
    t.h.clock.advance(TimeDelta::minutes(31));
    t.sign_in(&t.editor).await;
    assert!(t.h.store.console_session(&row).await.unwrap().is_none());
}

#[tokio::test]
async fn revoking_the_key_ends_its_sessions() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    t.get_config(&s, "vault").await.assert_status_is_ok();
    let now = passgate_engine::Clock::now(&t.h.clock);
    t.h.store.revoke_api_key(t.editor_id, now).await.unwrap();
    t.get_config(&s, "vault")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_rule_bench_checks_the_draft_being_edited_within_the_key_scope() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    let bench = |tenant: &str, yaml: String, password: &str| {
        let path = format!("/admin/v1/tenants/{tenant}/config/rule-bench");
        let body = serde_json::json!({ "yaml": yaml, "password": password });
        let (t, s) = (&t, &s);
        async move { t.post_as(s, &path, body).await }
    };
    let resp = bench("vault", vault_with(20), "thirteen char").await;
    resp.assert_status_is_ok();
    let verdict: serde_json::Value = resp.json().await.value().deserialize();
    assert_eq!(verdict["accepted"], false);
    assert_eq!(verdict["violations"], serde_json::json!(["min_length"]));
    let min = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "min_length")
        .unwrap();
    assert_eq!(min["met"], false);
    assert!(min["text"].as_str().unwrap().contains("20"), "{min}");
    let resp = bench("vault", vault_with(12), "thirteen char").await;
    let verdict: serde_json::Value = resp.json().await.value().deserialize();
    assert_eq!(verdict["accepted"], true);
    bench("northbank", common::NORTHBANK.to_owned(), "x")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_translations_view_lists_what_a_locale_lacks_and_its_fallback() {
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    let draft = vault().replace(
        "  supported: [en]\n",
        "  supported: [en, fr]\nmessages:\n  en:\n    request.title: \"Forgot your Vault password?\"\n",
    );
    let resp = t
        .post_as(
            &s,
            "/admin/v1/tenants/vault/config/translations",
            serde_json::json!({ "yaml": draft }),
        )
        .await;
    resp.assert_status_is_ok();
    let view: serde_json::Value = resp.json().await.value().deserialize();
    assert_eq!(view[0]["locale"], "en");
    assert_eq!(view[0]["own"], 1);
    assert_eq!(view[0]["missing"], serde_json::json!([]));
    assert_eq!(view[1]["locale"], "fr");
    let missing = &view[1]["missing"][0];
    assert_eq!(missing["key"], "request.title");
    assert_eq!(missing["fallback"], "theme");
    assert!(!missing["text"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_console_pages_carry_a_strict_nonce_csp() {
    let t = in_process().await;
    let page = t.client.get("/console/").header("Host", HOST).send().await;
    let csp = page.0.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let html = page.0.into_body().into_string().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(html.contains(&format!("<script nonce=\"{nonce}\"")));
    // Without the trailing slash too.
    t.client
        .get("/console")
        .header("Host", HOST)
        .send()
        .await
        .assert_status_is_ok();
}

/// The acceptance walk in Chromium over the real server (see the module doc).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_owner_and_platform_admin_work_in_the_console_in_a_real_browser() {
    if let Some(why) = missing_tools() {
        println!("skipped: browser test needs Chromium: {why}");
        return;
    }
    let served = Served::serve(
        |base, _landing| async move { stored_harness(&base).await },
        |h| {
            // The public origin is the server's own, known only once it listens.
            let origin = h.state.settings.public_base_url().to_owned();
            // The walk edits far faster than a person: a larger budget of document checks
            // (the 429 message itself is checked with a simulated answer).
            let settings = AdminSettings {
                expensive_requests_per_minute: 200,
                ..AdminSettings::default()
            };
            nest_console(h, admin_state_with(h, &origin, settings))
        },
    )
    .await;
    let (_, editor) = key(
        &served.h.store,
        ApiRole::TenantEditor,
        &["vault"],
        "Vera (Vault PO)",
        &served.h,
    )
    .await;
    let (_, admin) = key(
        &served.h.store,
        ApiRole::PlatformAdmin,
        &[],
        "Ops",
        &served.h,
    )
    .await;
    let extra = vec![
        ("EDITOR_KEY", editor),
        ("ADMIN_KEY", admin),
        ("SIM_URL", served.h.sim.base_url.clone()),
        (
            "SHOT",
            passgate_testkit::paths::workspace_root()
                .join("docs/images/console.png")
                .display()
                .to_string(),
        ),
    ];
    let ok = served
        .run_with("console.mjs", "target/console-screens", extra)
        .await;
    let h = served.stop().await;
    assert!(ok, "the console walk failed (output above)");
    // What the browser published is what the store serves: the walk rolled Vault back.
    let vault = TenantId::parse("vault").unwrap();
    let active = h.store.active_version(&vault).await.unwrap().unwrap();
    assert!(active.yaml.contains("min_length: 12"), "{}", active.yaml);
    assert!(
        h.store
            .tenant(&TenantId::parse("shopfront").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    // Every console write was audited under the person's key label.
    let audit = h.store.all_audit(200, None).await.unwrap();
    assert!(audit.iter().any(
        |e| e.event.action.starts_with("config.") && e.event.actor.contains("Vera (Vault PO)")
    ));
}

#[tokio::test]
async fn a_published_policy_is_what_the_policy_endpoint_serves_next() {
    // The policy document is kept per configuration version: a publish must not leave
    // apps validating against the old rules.
    let t = in_process().await;
    let s = t.sign_in(&t.editor).await;
    let min_length = || async {
        let resp = t
            .client
            .get("/v1/apps/vault-app/password-policy")
            .header("Host", HOST)
            .send()
            .await;
        resp.assert_status_is_ok();
        let body = resp.0.into_body().into_string().await.unwrap();
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["policy"]["min_length"].as_u64().unwrap()
    };
    assert_eq!(min_length().await, 12);
    assert_eq!(min_length().await, 12, "the kept document");
    let resp = t.publish(&s, "vault", Some(&s.csrf), &vault_with(14)).await;
    resp.assert_status(StatusCode::CREATED);
    assert_eq!(min_length().await, 14);
}
