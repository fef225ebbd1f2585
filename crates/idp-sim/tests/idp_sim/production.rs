//! The simulator refuses what a production Auth0 tenant or Capture application refuses
//! (issue 15): audiences and custom domains, tickets, per-application connections,
//! Universal Login experiences, plans, and Janrain's flows, mail links and error shapes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use crate::support;

use passgate_idp_sim::{
    Auth0Settings, CodeErrorShape, JanrainSettings, Plan, SeedUser, SimConfig, SimHandle,
    UniversalLogin,
};
use serde_json::{Value, json};
use support::{header, http, json_call, url_encode};

const JANE_ID: &str = "auth0|63d17c4bdf1ce171262c7e93";
const CONNECTION: &str = "Username-Password-Authentication";

fn users() -> Vec<SeedUser> {
    let user = |email: &str, id: Option<&str>, connection: Option<&str>| SeedUser {
        email: email.into(),
        user_id: id.map(str::to_owned),
        connection: connection.map(str::to_owned),
        name: Some("Jane Doe".into()),
        blocked: false,
        email_verified: true,
        password: Some("Initial-Passw0rd".into()),
    };
    vec![
        user("jane@example.com", Some(JANE_ID), None),
        user("jan@example.com", None, Some("janrain")),
    ]
}

/// The gateway page a Capture client's `password_recover_url` names in these tests.
const LANDING: &str = "https://gateway.example.com/janrain/landing";

/// A simulator; a Janrain app without `password_recover_url` gets [`LANDING`] (every real
/// Capture client that mails reset links has the setting).
async fn start(auth0: Auth0Settings, mut janrain: JanrainSettings) -> SimHandle {
    janrain
        .password_recover_url
        .get_or_insert_with(|| LANDING.into());
    passgate_idp_sim::start(SimConfig {
        auth0,
        janrain,
        users: users(),
        oidc: None,
    })
    .await
    .unwrap()
}

/// The bound address as the https identifier the SDKs send by default.
fn default_audience(sim: &SimHandle) -> String {
    format!("https://{}/api/v2/", sim.addr)
}

async fn token_for(sim: &SimHandle, audience: &str) -> (u16, Value) {
    json_call(
        sim.addr,
        "POST",
        "/oauth/token",
        json!({ "grant_type": "client_credentials", "client_id": "sim-client",
                "client_secret": "sim-secret", "audience": audience }),
    )
    .await
}

async fn bearer(sim: &SimHandle, audience: &str) -> String {
    let (status, body) = token_for(sim, audience).await;
    assert_eq!(status, 200, "{body}");
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

async fn ticket(
    sim: &SimHandle,
    bearer: &str,
    extra_headers: &[(&str, &str)],
    body: Value,
) -> (u16, Value) {
    let mut headers = vec![("authorization", bearer)];
    headers.extend_from_slice(extra_headers);
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/api/v2/tickets/password-change",
        "application/json",
        &headers,
        &body.to_string(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_management_audience_is_the_https_canonical_identifier_not_the_base_url() {
    let sim = start(Auth0Settings::default(), JanrainSettings::default()).await;
    let (status, _) = token_for(&sim, &default_audience(&sim)).await;
    assert_eq!(status, 200);
    // The plain-http address the simulator serves on is not the API identifier.
    let (status, body) = token_for(&sim, &format!("{}/api/v2/", sim.base_url)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn a_custom_domain_is_not_an_audience() {
    let sim = start(
        Auth0Settings {
            canonical_domain: Some("acme.eu.auth0.com".into()),
            custom_domains: vec!["login.acme.com".into()],
            ..Auth0Settings::default()
        },
        JanrainSettings::default(),
    )
    .await;
    let (status, _) = token_for(&sim, "https://acme.eu.auth0.com/api/v2/").await;
    assert_eq!(status, 200);
    let (status, body) = token_for(&sim, "https://login.acme.com/api/v2/").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "access_denied");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("Service not found"),
        "{body}"
    );
    // Nor is the bound address once a canonical domain is configured.
    let (status, _) = token_for(&sim, &default_audience(&sim)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn several_custom_domains_need_the_header_on_tickets() {
    let sim = start(
        Auth0Settings {
            canonical_domain: Some("acme.eu.auth0.com".into()),
            custom_domains: vec!["login.acme.com".into(), "login.acme.de".into()],
            ..Auth0Settings::default()
        },
        JanrainSettings::default(),
    )
    .await;
    let bearer = bearer(&sim, "https://acme.eu.auth0.com/api/v2/").await;
    let body = json!({ "user_id": JANE_ID });
    let (status, reply) = ticket(&sim, &bearer, &[], body.clone()).await;
    assert_eq!(status, 409, "{reply}");
    let (status, _) = ticket(
        &sim,
        &bearer,
        &[("auth0-custom-domain", "login.elsewhere.com")],
        body.clone(),
    )
    .await;
    assert_eq!(status, 409, "an unverified domain does not count");
    let (status, reply) = ticket(
        &sim,
        &bearer,
        &[("auth0-custom-domain", "login.acme.de")],
        body,
    )
    .await;
    assert_eq!(status, 201, "{reply}");
}

#[tokio::test]
async fn a_ticket_for_an_unknown_client_is_refused() {
    let sim = start(Auth0Settings::default(), JanrainSettings::default()).await;
    let bearer = bearer(&sim, &default_audience(&sim)).await;
    let (status, reply) = ticket(
        &sim,
        &bearer,
        &[],
        json!({ "user_id": JANE_ID, "client_id": "no-such-app" }),
    )
    .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["message"], "The client does not exist");
}

async fn change_password(sim: &SimHandle, client_id: &str) -> (u16, String) {
    let body = json!({ "client_id": client_id, "email": "jane@example.com",
                       "connection": CONNECTION });
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/dbconnections/change_password",
        "application/json",
        &[],
        &body.to_string(),
    )
    .await;
    (status, text)
}

#[tokio::test]
async fn change_password_needs_an_application_with_the_connection_enabled() {
    let mut auth0 = Auth0Settings::default();
    // A production M2M application: Management API grant, no database connection.
    auth0.clients[0].enabled_connections.clear();
    let sim = start(auth0, JanrainSettings::default()).await;
    let (status, text) = change_password(&sim, "sim-client").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not enabled for this client"), "{text}");
    assert!(sim.mailbox().is_empty(), "no mail for a refused request");
    let (status, text) = change_password(&sim, passgate_idp_sim::DEFAULT_APP_CLIENT).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(sim.mailbox().len(), 1);
}

/// Creates a ticket, completes the page, returns the final status and `location`.
async fn complete_ticket(sim: &SimHandle, body: Value, password: &str) -> (u16, Option<String>) {
    let bearer = bearer(sim, &default_audience(sim)).await;
    let (status, reply) = ticket(sim, &bearer, &[], body).await;
    assert_eq!(status, 201, "{reply}");
    let link = reply["ticket"].as_str().unwrap();
    let link = link
        .strip_prefix(&sim.base_url)
        .unwrap()
        .trim_end_matches('#');
    let form = format!(
        "newPassword={}&confirmNewPassword={}",
        url_encode(password),
        url_encode(password)
    );
    let (status, headers, _) = http(
        sim.addr,
        "POST",
        link,
        "application/x-www-form-urlencoded",
        &[],
        &form,
    )
    .await;
    (status, header(&headers, "location").map(str::to_owned))
}

#[tokio::test]
async fn new_universal_login_ignores_result_url_and_returns_through_the_application() {
    let sim = start(Auth0Settings::default(), JanrainSettings::default()).await;
    assert_eq!(
        Auth0Settings::default().universal_login,
        UniversalLogin::New,
        "New Universal Login is the default experience"
    );
    let (status, location) = complete_ticket(
        &sim,
        json!({ "user_id": JANE_ID, "result_url": "https://app.example.com/done" }),
        "Brand-New-Passw0rd!",
    )
    .await;
    assert_eq!((status, location), (200, None), "result_url is ignored");
    let (status, location) = complete_ticket(
        &sim,
        json!({ "user_id": JANE_ID, "client_id": passgate_idp_sim::DEFAULT_APP_CLIENT }),
        "Other-New-Passw0rd!",
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(location.as_deref(), Some("https://app.example.com/login"));
}

#[tokio::test]
async fn classic_universal_login_honours_result_url() {
    let sim = start(
        Auth0Settings {
            universal_login: UniversalLogin::Classic,
            ..Auth0Settings::default()
        },
        JanrainSettings::default(),
    )
    .await;
    let (status, location) = complete_ticket(
        &sim,
        json!({ "user_id": JANE_ID, "result_url": "https://app.example.com/done" }),
        "Brand-New-Passw0rd!",
    )
    .await;
    assert_eq!(status, 302);
    assert!(
        location
            .unwrap()
            .starts_with("https://app.example.com/done?success=true")
    );
}

async fn delete_sessions(sim: &SimHandle) -> u16 {
    let bearer = bearer(sim, &default_audience(sim)).await;
    let (status, _, _) = http(
        sim.addr,
        "DELETE",
        &format!("/api/v2/users/{}/sessions", url_encode(JANE_ID)),
        "",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    status
}

#[tokio::test]
async fn session_endpoints_exist_only_on_enterprise_plans() {
    for plan in [Plan::Free, Plan::SelfService] {
        let sim = start(
            Auth0Settings {
                plan,
                ..Auth0Settings::default()
            },
            JanrainSettings::default(),
        )
        .await;
        assert_eq!(delete_sessions(&sim).await, 403, "{plan:?}");
    }
    let sim = start(
        Auth0Settings {
            plan: Plan::Enterprise,
            ..Auth0Settings::default()
        },
        JanrainSettings::default(),
    )
    .await;
    assert_eq!(delete_sessions(&sim).await, 202);
}

async fn janrain_form(sim: &SimHandle, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let form: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    let (status, _, text) = http(
        sim.addr,
        "POST",
        &format!("/janrain{path}"),
        "application/x-www-form-urlencoded",
        &[],
        &form.join("&"),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn forgot(sim: &SimHandle, flow: Option<&str>, version: Option<&str>) -> Value {
    let mut fields = vec![
        ("client_id", "sim-janrain-client"),
        ("locale", "en-US"),
        (
            "redirect_uri",
            "https://gateway.example.com/janrain/landing",
        ),
        ("response_type", "code"),
        ("form", "forgotPasswordForm"),
        ("signInEmailAddress", "jan@example.com"),
    ];
    if let Some(flow) = flow {
        fields.push(("flow", flow));
    }
    if let Some(version) = version {
        fields.push(("flow_version", version));
    }
    janrain_form(sim, "/oauth/forgot_password_native", &fields)
        .await
        .1
}

#[tokio::test]
async fn janrain_requires_flow_and_flow_version() {
    let sim = start(Auth0Settings::default(), JanrainSettings::default()).await;
    let reply = forgot(&sim, None, Some("HEAD")).await;
    assert_eq!(
        (reply["code"].clone(), reply["argument_name"].clone()),
        (json!(100), json!("flow"))
    );
    let reply = forgot(&sim, Some("standard"), None).await;
    assert_eq!(reply["argument_name"], "flow_version", "{reply}");
    let reply = forgot(&sim, Some("other"), Some("HEAD")).await;
    assert_eq!(
        (reply["code"].clone(), reply["argument_name"].clone()),
        (json!(200), json!("flow"))
    );
    let reply = forgot(&sim, Some("standard"), Some("1999")).await;
    assert_eq!(reply["argument_name"], "flow_version", "{reply}");
    assert_eq!(
        forgot(&sim, Some("standard"), Some("HEAD")).await["stat"],
        "ok"
    );
    let version = JanrainSettings::default().flow_version;
    assert_eq!(
        forgot(&sim, Some("standard"), Some(&version)).await["stat"],
        "ok"
    );

    let strict = start(
        Auth0Settings::default(),
        JanrainSettings {
            accept_head_flow_version: false,
            ..JanrainSettings::default()
        },
    )
    .await;
    let reply = forgot(&strict, Some("standard"), Some("HEAD")).await;
    assert_eq!(reply["argument_name"], "flow_version", "{reply}");
    assert_eq!(
        forgot(&strict, Some("standard"), Some(&version)).await["stat"],
        "ok"
    );
}

#[tokio::test]
async fn janrain_mails_the_clients_password_recover_url() {
    let sim = start(
        Auth0Settings::default(),
        JanrainSettings {
            password_recover_url: Some("https://app.example.com/reset?lang=en".into()),
            ..JanrainSettings::default()
        },
    )
    .await;
    assert_eq!(
        forgot(&sim, Some("standard"), Some("HEAD")).await["stat"],
        "ok"
    );
    let mail = sim.mailbox().pop().unwrap();
    let code = mail.code.clone().unwrap();
    assert_eq!(
        mail.link,
        format!("https://app.example.com/reset?lang=en&code={code}"),
        "the setting, not the request's redirect_uri"
    );
    // redirect_uri is still re-checked at /oauth/token.
    let (status, reply) = janrain_form(
        &sim,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            (
                "redirect_uri",
                "https://gateway.example.com/janrain/landing",
            ),
            ("client_id", "sim-janrain-client"),
            ("client_secret", "sim-janrain-secret"),
        ],
    )
    .await;
    assert_eq!(
        (status, reply["stat"].clone()),
        (200, json!("ok")),
        "{reply}"
    );
}

#[tokio::test]
async fn janrain_mails_a_clients_own_setting_and_nothing_without_one() {
    let mut janrain = JanrainSettings::default();
    janrain.client_password_recover_urls.insert(
        "sim-janrain-client".into(),
        "https://gateway.example.com/reset/janrain?client_id=app-one".into(),
    );
    let sim = start(Auth0Settings::default(), janrain).await;
    assert_eq!(
        forgot(&sim, Some("standard"), Some("HEAD")).await["stat"],
        "ok"
    );
    let mail = sim.mailbox().pop().unwrap();
    assert!(
        mail.link
            .starts_with("https://gateway.example.com/reset/janrain?client_id=app-one&code="),
        "the client's override wins: {}",
        mail.link
    );

    // No setting at all: no mail, and never a link built from the request's redirect_uri.
    let bare = passgate_idp_sim::start(SimConfig {
        users: users(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let reply = forgot(&bare, Some("standard"), Some("HEAD")).await;
    assert_eq!(reply["stat"], "error", "{reply}");
    assert!(
        reply["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("password_recover_url"),
        "{reply}"
    );
    assert!(bare.mailbox().is_empty());
}

async fn redeem_unknown_code(sim: &SimHandle) -> (u16, Value) {
    janrain_form(
        sim,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", "nosuchcode"),
            (
                "redirect_uri",
                "https://gateway.example.com/janrain/landing",
            ),
            ("client_id", "sim-janrain-client"),
            ("client_secret", "sim-janrain-secret"),
        ],
    )
    .await
}

#[tokio::test]
async fn janrain_answers_bad_codes_in_either_documented_shape() {
    let sim = start(Auth0Settings::default(), JanrainSettings::default()).await;
    let (status, reply) = redeem_unknown_code(&sim).await;
    assert_eq!(status, 400);
    assert_eq!(
        (
            reply["code"].clone(),
            reply["error"].clone(),
            reply["argument_name"].clone()
        ),
        (json!(200), json!("invalid_argument"), json!("code"))
    );
    let sim = start(
        Auth0Settings::default(),
        JanrainSettings {
            code_error_shape: CodeErrorShape::InvalidRequest,
            ..JanrainSettings::default()
        },
    )
    .await;
    let (status, reply) = redeem_unknown_code(&sim).await;
    assert_eq!(status, 400);
    assert_eq!(
        (
            reply["code"].clone(),
            reply["error"].clone(),
            reply["sub_error"].clone()
        ),
        (
            json!(200),
            json!("invalid_request"),
            json!("invalid_argument")
        )
    );
}

#[tokio::test]
async fn plan_limits_answer_real_429s_with_real_headers() {
    let sim = start(
        Auth0Settings {
            plan: Plan::Free,
            ..Auth0Settings::default()
        },
        JanrainSettings::default(),
    )
    .await;
    let bearer = bearer(&sim, &default_audience(&sim)).await;
    let lookup = || async {
        http(
            sim.addr,
            "GET",
            "/api/v2/users-by-email?email=jane%40example.com",
            "",
            &[("authorization", &bearer)],
            "",
        )
        .await
    };
    let (first, headers, _) = lookup().await;
    assert_eq!(first, 200);
    assert_eq!(header(&headers, "x-ratelimit-limit"), Some("2"));
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("1"));
    let (second, _, _) = lookup().await;
    assert_eq!(second, 200);
    let (third, headers, body) = lookup().await;
    assert_eq!(third, 429, "free plan: 2 requests per second");
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some("0"));
    let reset: i64 = header(&headers, "x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    let now = sim.state().now().timestamp();
    assert!((now..=now + 2).contains(&reset), "{reset} vs {now}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errorCode"], "too_many_requests");

    // change_password: a burst of 10 per IP + email, then one a minute.
    for _ in 0..10 {
        assert_eq!(change_password(&sim, "sim-client").await.0, 200);
    }
    let (status, text) = change_password(&sim, "sim-client").await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("too_many_requests"), "{text}");
    assert_eq!(
        sim.mailbox().len(),
        10,
        "the refused request mailed nothing"
    );
}
