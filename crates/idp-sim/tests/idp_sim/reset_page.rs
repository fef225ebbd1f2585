//! Auth0's hosted change-password page (`/u/reset-password?ticket=…`): the page a
//! password-change ticket or a change-password email opens, driven over raw HTTP as a
//! browser would (GET the form, POST it form-urlencoded).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use crate::support;

use std::path::Path;
use std::time::Duration;

use passgate_idp_sim::{SimConfig, SimHandle, sha256_hex};
use serde_json::{Value, json};
use support::{header, http, json_call, url_encode};

const JANE: &str = "jane@example.com";
const JANE_ID: &str = "auth0|63d17c4bdf1ce171262c7e93";
const JANE_PASSWORD: &str = "Initial-Passw0rd";
const NEW_PASSWORD: &str = "Brand-New-Passw0rd!";

/// The example seed: Jane on a `good` connection with history, dictionary and personal-info
/// checks.
async fn start() -> SimHandle {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("users.example.yaml");
    passgate_idp_sim::start(SimConfig::from_file(&path).unwrap())
        .await
        .unwrap()
}

/// Creates a ticket for Jane with `extra` fields; returns the link's path and query.
async fn ticket(sim: &SimHandle, extra: Value) -> String {
    let (status, text) = request_ticket(sim, extra).await;
    assert_eq!(status, 201, "{text}");
    let url: Value = serde_json::from_str(&text).unwrap();
    let url = url["ticket"].as_str().unwrap();
    let link = url.strip_prefix(&sim.base_url).unwrap();
    assert!(link.starts_with("/u/reset-password?ticket="), "{link}");
    link.trim_end_matches('#').to_owned()
}

/// `POST /api/v2/tickets/password-change` for Jane with `extra` fields: status and body.
async fn request_ticket(sim: &SimHandle, extra: Value) -> (u16, String) {
    let (status, token) = json_call(
        sim.addr,
        "POST",
        "/oauth/token",
        json!({ "grant_type": "client_credentials", "client_id": "sim-client",
                "client_secret": "sim-secret", "audience": format!("{}/api/v2/", sim.base_url.replace("http://", "https://")) }),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let mut body = json!({ "user_id": JANE_ID });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/api/v2/tickets/password-change",
        "application/json",
        &[("authorization", &bearer)],
        &body.to_string(),
    )
    .await;
    (status, text)
}

async fn open(sim: &SimHandle, link: &str) -> (u16, Vec<(String, String)>, String) {
    http(sim.addr, "GET", link, "", &[], "").await
}

/// Submits the form as a browser would.
async fn submit(
    sim: &SimHandle,
    link: &str,
    password: &str,
    confirmation: &str,
) -> (u16, Vec<(String, String)>, String) {
    let form = format!(
        "newPassword={}&confirmNewPassword={}",
        url_encode(password),
        url_encode(confirmation)
    );
    http(
        sim.addr,
        "POST",
        link,
        "application/x-www-form-urlencoded",
        &[],
        &form,
    )
    .await
}

fn jane_password(sim: &SimHandle) -> Option<String> {
    sim.user(JANE).unwrap().password_sha256
}

#[tokio::test]
async fn a_ticket_opens_a_form_that_changes_the_password_once() {
    let sim = start().await;
    let before = sim.user(JANE).unwrap();
    let link = ticket(&sim, json!({ "ttl_sec": 3600 })).await;

    let (status, headers, page) = open(&sim, &link).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert!(page.contains("<label for=\"newPassword\">"), "{page}");
    assert!(
        page.contains("<label for=\"confirmNewPassword\">"),
        "{page}"
    );
    assert!(page.contains(JANE), "the page names the account: {page}");
    assert!(!page.contains("<script"), "{page}");

    sim.advance_clock(Duration::from_secs(60));
    let submitted_at = sim.state().now();
    let (status, _, page) = submit(&sim, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Password changed"), "{page}");
    let after = sim.user(JANE).unwrap();
    assert_eq!(after.password_sha256, Some(sha256_hex(NEW_PASSWORD)));
    assert_eq!(after.password_changes, before.password_changes + 1);
    let reset = after
        .last_password_reset
        .expect("last_password_reset is set");
    assert_ne!(after.last_password_reset, before.last_password_reset);
    assert!(reset >= submitted_at, "{reset} < {submitted_at}");

    // The call is in the log like any other, with the password hashed.
    let calls = sim.calls();
    let call = calls
        .iter()
        .find(|c| c.method == "POST" && c.path == "/u/reset-password")
        .unwrap();
    assert_eq!(call.status, 200);
    assert_eq!(call.password_sha256, Some(sha256_hex(NEW_PASSWORD)));
    assert!(
        !serde_json::to_string(&calls)
            .unwrap()
            .contains(NEW_PASSWORD)
    );

    // Spent: neither the page nor a second submission works any more.
    let (status, _, page) = open(&sim, &link).await;
    assert_eq!(status, 400);
    assert!(page.contains("already been used"), "{page}");
    let (status, _, _) = submit(&sim, &link, "Another-Passw0rd!", "Another-Passw0rd!").await;
    assert_eq!(status, 400);
    assert_eq!(jane_password(&sim), Some(sha256_hex(NEW_PASSWORD)));
}

#[tokio::test]
async fn a_mismatched_confirmation_shows_the_form_again_and_keeps_the_ticket() {
    let sim = start().await;
    let link = ticket(&sim, json!({})).await;

    let (status, _, page) = submit(&sim, &link, NEW_PASSWORD, "Brand-New-Passw0rd?").await;
    assert_eq!(status, 400);
    assert!(page.contains("The passwords do not match."), "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(page.contains("<form"), "the form is shown again: {page}");
    assert_eq!(jane_password(&sim), Some(sha256_hex(JANE_PASSWORD)));

    let (status, _, page) = submit(&sim, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(jane_password(&sim), Some(sha256_hex(NEW_PASSWORD)));
}

#[tokio::test]
async fn the_connection_policy_applies_as_on_the_management_api() {
    let sim = start().await;
    let link = ticket(&sim, json!({})).await;

    let (status, _, page) = submit(&sim, &link, "short", "short").await;
    assert_eq!(status, 400);
    assert!(page.contains("Password is too weak."), "{page}");

    // The current password is in the history (size 5).
    let (status, _, page) = submit(&sim, &link, JANE_PASSWORD, JANE_PASSWORD).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Password has previously been used."),
        "{page}"
    );

    // The name is personal information.
    let (status, _, page) = submit(&sim, &link, "Jane-Passw0rd!", "Jane-Passw0rd!").await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Password contains user information."),
        "{page}"
    );

    let jane = sim.user(JANE).unwrap();
    assert_eq!(jane.password_sha256, Some(sha256_hex(JANE_PASSWORD)));
    assert_eq!(jane.password_changes, 0);
    // Rejections do not spend the ticket.
    let (status, _, _) = open(&sim, &link).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_expired_or_unknown_ticket_shows_an_error_page() {
    let sim = start().await;
    let link = ticket(&sim, json!({ "ttl_sec": 60 })).await;
    sim.advance_clock(Duration::from_secs(61));

    let (status, headers, page) = open(&sim, &link).await;
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.contains("This link has expired."), "{page}");
    assert!(!page.contains("<form"), "{page}");
    let (status, _, _) = submit(&sim, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 400);
    assert_eq!(jane_password(&sim), Some(sha256_hex(JANE_PASSWORD)));

    let (status, _, page) = open(&sim, "/u/reset-password?ticket=0123456789abcdef").await;
    assert_eq!(status, 404);
    assert!(page.contains("This link is invalid."), "{page}");
    let (status, _, _) = open(&sim, "/u/reset-password").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn success_redirects_to_the_result_url() {
    let sim = start().await;
    let seed = json!({ "email": JANE, "user_id": JANE_ID, "name": "Jane Doe",
                       "password": JANE_PASSWORD, "email_verified": false });
    let (status, _) = json_call(sim.addr, "POST", "/_sim/users", seed).await;
    assert_eq!(status, 201);
    assert!(!sim.user(JANE).unwrap().email_verified);
    let link = ticket(
        &sim,
        json!({ "result_url": "https://app.example.com/done?from=sim",
                "includeEmailInRedirect": true, "mark_email_as_verified": true }),
    )
    .await;

    let (status, headers, _) = submit(&sim, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 302);
    let location = url::Url::parse(header(&headers, "location").unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("app.example.com"));
    assert_eq!(location.path(), "/done");
    let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let get = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("from"), Some("sim"));
    assert_eq!(get("success"), Some("true"));
    assert_eq!(get("email"), Some(JANE));
    let jane = sim.user(JANE).unwrap();
    assert_eq!(jane.password_sha256, Some(sha256_hex(NEW_PASSWORD)));
    assert!(jane.email_verified);
}

#[tokio::test]
async fn the_change_password_email_link_opens_the_same_page() {
    let sim = start().await;
    let body = json!({ "client_id": "sim-client", "email": JANE,
                       "connection": "Username-Password-Authentication" });
    let (status, _) = json_call(sim.addr, "POST", "/dbconnections/change_password", body).await;
    assert_eq!(status, 200);
    let mail = sim.mailbox().pop().unwrap();
    let link = mail
        .link
        .strip_prefix(&sim.base_url)
        .unwrap()
        .trim_end_matches('#')
        .to_owned();
    let (status, _, page) = open(&sim, &link).await;
    assert_eq!(status, 200, "{page}");
    let (status, _, _) = submit(&sim, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(jane_password(&sim), Some(sha256_hex(NEW_PASSWORD)));
}

#[tokio::test]
async fn a_result_url_that_is_not_an_absolute_web_url_is_refused() {
    let sim = start().await;
    for bad in ["/relative/path", "javascript:alert(1)", "not a url"] {
        let (status, text) = request_ticket(&sim, json!({ "result_url": bad })).await;
        assert_eq!(status, 400, "{bad}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["errorCode"], "invalid_body", "{bad}");
    }
}
