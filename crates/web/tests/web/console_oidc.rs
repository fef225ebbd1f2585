//! Console sign-in through the company's OpenID Connect provider, against the simulator's
//! strict issuer over real HTTP (PKCE required, single-use codes, exact redirect URIs): a
//! product owner signs in and gets exactly the app their claims name; every way an answer
//! can be wrong (state, replayed code, each bad ID token, no role, a revoked person, a
//! cancel) signs nobody in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use passgate_idp_sim::{IdTokenFault, OidcClient, OidcPerson, OidcSettings, SimConfig, SimHandle};
use passgate_oidc::{OidcConfig, RelyingParty};
use passgate_store::{ApiKeyRepo, AuditRepo};
use passgate_web::admin::AdminSettings;
use passgate_web::console::ConsoleOidc;
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::json;

use crate::common::{self, BASE, HOST, Harness, hidden_fields};
use crate::console::{admin_state_with, cookie_value as set_cookie, nest_console};

const SESSION: &str = "__Host-passgate_console";
const LOGIN: &str = "__Host-passgate_oidc";

fn person(subject: &str, name: &str, claims: serde_json::Value) -> OidcPerson {
    OidcPerson {
        subject: subject.into(),
        email: format!("{subject}@example.com"),
        name: name.into(),
        claims: claims.as_object().cloned().unwrap_or_default(),
    }
}

struct World {
    h: Harness,
    sim: SimHandle,
    client: TestClient<BoxEndpoint<'static>>,
    browser: reqwest::Client,
}

async fn world() -> World {
    let h = Harness::with_stored_tenants(BASE, &[common::VAULT, common::NORTHBANK]).await;
    let sim = passgate_idp_sim::start(SimConfig {
        oidc: Some(OidcSettings {
            clients: vec![OidcClient {
                client_id: "passgate-console".into(),
                client_secret: Some("console-secret".into()),
                redirect_uris: vec![format!("{BASE}/console/oidc/callback")],
                id_token_signed_response_alg: None,
            }],
            people: vec![
                person(
                    "vera",
                    "Vera (Vault PO)",
                    json!({"passgate_role": "tenant-editor", "passgate_tenants": ["vault"]}),
                ),
                person("guest", "Gus Guest", json!({"passgate_role": "viewer"})),
            ],
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let provider = RelyingParty::new(OidcConfig {
        issuer: sim.oidc_issuer(),
        client_id: "passgate-console".into(),
        client_secret: Some("console-secret".to_owned().into()),
        redirect_uri: format!("{BASE}/console/oidc/callback"),
        scopes: vec!["email".into(), "profile".into()],
        allow_loopback_http: true,
        timeout: std::time::Duration::from_secs(5),
    })
    .unwrap();
    let admin = admin_state_with(
        &h,
        BASE,
        AdminSettings {
            console_oidc: Some(Arc::new(ConsoleOidc {
                provider,
                display_name: "Example SSO".into(),
                role_claim: "passgate_role".into(),
                tenants_claim: "passgate_tenants".into(),
            })),
            ..AdminSettings::default()
        },
    );
    let app = nest_console(&h, admin);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    World {
        h,
        sim,
        client: TestClient::new(app),
        browser,
    }
}

/// Where a sign-in stands after the provider sent the browser back.
struct Returned {
    /// The login cookie `start` set.
    login: String,
    /// The callback path and query the provider redirected to.
    callback: String,
}

impl World {
    /// Clicks "Sign in with Example SSO", picks `subject` at the provider (or cancels).
    async fn at_provider(&self, subject: &str, action: &str) -> Returned {
        // The simulator signs with the wall clock; the gateway judges `exp` and `iat` on its
        // own (fixed) clock, so it is set to the wall clock before each sign-in.
        #[allow(clippy::disallowed_methods)]
        self.h.clock.set(chrono::Utc::now());
        let start = self
            .client
            .get("/console/oidc/start")
            .header("Host", HOST)
            .send()
            .await;
        start.assert_status(StatusCode::SEE_OTHER);
        let (login, flags) = set_cookie(&start, LOGIN).expect("a login cookie");
        assert!(
            flags.contains("HttpOnly")
                && flags.contains("Secure")
                && flags.contains("SameSite=Lax"),
            "{flags}"
        );
        let to = start.0.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with(&self.sim.oidc_issuer()), "{to}");
        assert!(to.contains("code_challenge_method=S256"), "{to}");
        let page = self.browser.get(&to).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let mut form = hidden_fields(&html);
        form.push(("subject".into(), subject.into()));
        form.push(("action".into(), action.into()));
        let back = self
            .browser
            .post(format!("{}/authorize", self.sim.oidc_issuer()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 303);
        let location = back.headers()["location"].to_str().unwrap().to_owned();
        let callback = location
            .strip_prefix(BASE)
            .unwrap_or_else(|| panic!("back to the gateway's callback: {location}"))
            .to_owned();
        Returned { login, callback }
    }

    async fn callback(&self, path: &str, login: Option<&str>) -> TestResponse {
        let mut req = self.client.get(path).header("Host", HOST);
        if let Some(login) = login {
            req = req.header("Cookie", format!("{LOGIN}={login}"));
        }
        req.send().await
    }

    /// A full sign-in of `subject`: the session cookie.
    async fn sign_in(&self, subject: &str) -> String {
        let back = self.at_provider(subject, "sign_in").await;
        let resp = self.callback(&back.callback, Some(&back.login)).await;
        resp.assert_status_is_ok();
        let (session, flags) = set_cookie(&resp, SESSION).expect("a session cookie");
        assert!(flags.contains("SameSite=Strict"), "{flags}");
        let (cleared, _) = set_cookie(&resp, LOGIN).expect("the login cookie is cleared");
        assert!(cleared.is_empty());
        session
    }

    async fn get_as(&self, session: &str, path: &str) -> TestResponse {
        self.client
            .get(path)
            .header("Host", HOST)
            .header("Cookie", format!("{SESSION}={session}"))
            .send()
            .await
    }

    async fn refused(&self, resp: TestResponse, status: StatusCode, says: &str) {
        assert!(set_cookie(&resp, SESSION).is_none(), "nobody is signed in");
        resp.assert_status(status);
        let html = resp.0.into_body().into_string().await.unwrap();
        assert!(html.contains(says), "the page says {says:?}: {html}");
        assert!(
            html.contains("Sign in with Example SSO"),
            "and offers a new start"
        );
    }
}

#[tokio::test]
async fn an_editor_signs_in_with_the_company_provider_and_gets_only_their_app() {
    let w = world().await;
    let page = w.client.get("/console/").header("Host", HOST).send().await;
    page.assert_status_is_ok();
    let html = page.0.into_body().into_string().await.unwrap();
    assert!(html.contains("Sign in with Example SSO"), "{html}");

    let session = w.sign_in("vera").await;
    let home = w.get_as(&session, "/console/").await;
    home.assert_status_is_ok();
    let html = home.0.into_body().into_string().await.unwrap();
    assert!(html.contains("Vera (Vault PO)"), "{html}");
    assert!(html.contains("/console/tenants/vault"));
    assert!(!html.contains("/console/tenants/northbank"));
    w.get_as(&session, "/admin/v1/tenants/vault/config")
        .await
        .assert_status_is_ok();
    w.get_as(&session, "/admin/v1/tenants/northbank/config")
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // One identity per person, kept across sign-ins, no usable key; audited by subject.
    w.sign_in("vera").await;
    let keys = w.h.store.list_api_keys().await.unwrap();
    let subject = format!("{} vera", w.sim.oidc_issuer());
    assert_eq!(
        keys.iter()
            .filter(|k| k.oidc_subject.as_deref() == Some(subject.as_str()))
            .count(),
        1
    );
    let events = w.h.store.all_audit(50, None).await.unwrap();
    assert!(events.iter().any(|e| e.event.action == "console.sign_in"
        && e.event.actor == format!("oidc:{subject} (Vera (Vault PO))")
        && e.event.details["via"] == "oidc"));
}

#[tokio::test]
async fn a_callback_that_did_not_start_in_this_browser_signs_nobody_in() {
    let w = world().await;
    let back = w.at_provider("vera", "sign_in").await;
    // No login cookie: an attacker's code delivered to the victim (login CSRF).
    let resp = w.callback(&back.callback, None).await;
    w.refused(
        resp,
        StatusCode::BAD_REQUEST,
        "was started in another browser",
    )
    .await;
    // The cookie of another sign-in: its state is not this one.
    let other = w.at_provider("vera", "sign_in").await;
    let resp = w.callback(&back.callback, Some(&other.login)).await;
    w.refused(resp, StatusCode::BAD_REQUEST, "did not start here")
        .await;
    // A forged cookie.
    let forged = format!("{}x", back.login);
    let resp = w.callback(&back.callback, Some(&forged)).await;
    w.refused(
        resp,
        StatusCode::BAD_REQUEST,
        "was started in another browser",
    )
    .await;
    // A login cookie older than ten minutes.
    w.h.clock.advance(chrono::TimeDelta::minutes(11));
    let resp = w.callback(&other.callback, Some(&other.login)).await;
    w.refused(resp, StatusCode::BAD_REQUEST, "expired").await;
}

#[tokio::test]
async fn a_code_works_once() {
    let w = world().await;
    let back = w.at_provider("vera", "sign_in").await;
    w.callback(&back.callback, Some(&back.login))
        .await
        .assert_status_is_ok();
    let replay = w.callback(&back.callback, Some(&back.login)).await;
    w.refused(replay, StatusCode::UNAUTHORIZED, "could not be verified")
        .await;
}

#[tokio::test]
async fn id_tokens_not_meant_for_this_sign_in_are_refused() {
    let w = world().await;
    for fault in IdTokenFault::ALL {
        w.sim.set_oidc_id_token_fault(Some(fault));
        let back = w.at_provider("vera", "sign_in").await;
        let resp = w.callback(&back.callback, Some(&back.login)).await;
        assert!(
            set_cookie(&resp, SESSION).is_none(),
            "{fault:?} signed someone in"
        );
        w.refused(resp, StatusCode::UNAUTHORIZED, "could not be verified")
            .await;
    }
    w.sim.set_oidc_id_token_fault(None);
    w.sign_in("vera").await;
}

#[tokio::test]
async fn no_role_a_revoked_person_and_a_cancel_are_refused() {
    let w = world().await;
    let back = w.at_provider("guest", "sign_in").await;
    let resp = w.callback(&back.callback, Some(&back.login)).await;
    w.refused(resp, StatusCode::FORBIDDEN, "no Passgate role")
        .await;

    let session = w.sign_in("vera").await;
    let vera =
        w.h.store
            .list_api_keys()
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.oidc_subject.is_some())
            .unwrap();
    let now = passgate_engine::Clock::now(&w.h.clock);
    assert!(w.h.store.revoke_api_key(vera.id, now).await.unwrap());
    // Revoking ends the session and refuses the next sign-in, whatever the provider says.
    w.get_as(&session, "/admin/v1/tenants/vault/config")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let back = w.at_provider("vera", "sign_in").await;
    let resp = w.callback(&back.callback, Some(&back.login)).await;
    w.refused(resp, StatusCode::FORBIDDEN, "was revoked").await;

    let back = w.at_provider("vera", "cancel").await;
    let resp = w.callback(&back.callback, Some(&back.login)).await;
    w.refused(resp, StatusCode::UNAUTHORIZED, "cancelled").await;
}
