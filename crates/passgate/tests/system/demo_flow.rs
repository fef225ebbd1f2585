//! The demo end to end, as a user runs it: the real binary, a reset from request to new
//! password through the public API and the dev mailbox, the admin key, probes and metrics —
//! all at `RUST_LOG=trace`, with every byte the process wrote scanned for secrets
//! (security item 56).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use serde_json::json;
use support::{RunningDemo, client, token_in, wait_for_mail};

const PROVIDER_SECRET: &str = "sim-secret-Zq8RkP3vW1xYt6Lm";
const PASSWORD: &str = "violet kestrel harbour 1987 lantern";
const USER: &str = "ada@acme-shop.example.com";

#[test]
fn a_full_reset_through_the_demo_leaks_no_secret_into_any_output() {
    let demo = RunningDemo::start(
        &["--provider-secret", PROVIDER_SECRET],
        &[("RUST_LOG", "trace")],
    );
    let http = client();
    let base = demo.base.clone();

    // The printed pages work.
    let page = http
        .get(format!("{base}/reset?client_id=acme-shop-ios"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Acme Shop"));
    assert_eq!(
        http.get(format!("{base}/healthz")).send().unwrap().status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/readyz")).send().unwrap().status(),
        200
    );

    // Request → mail → link → new password.
    let accepted = http
        .post(format!("{base}/v1/password-resets"))
        .json(&json!({ "client_id": "acme-shop-ios", "email": USER, "locale": "en" }))
        .send()
        .unwrap();
    assert!(accepted.status().is_success(), "{}", accepted.status());
    let mail = wait_for_mail(&http, &base, USER);
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{base}/reset/confirm?token=")),
        "{text}"
    );
    assert!(!mail["html"].as_str().unwrap().is_empty());
    let token = token_in(text).unwrap();

    let state = http
        .get(format!("{base}/v1/password-resets/{token}"))
        .send()
        .unwrap();
    assert_eq!(state.status(), 200);
    let done = http
        .post(format!("{base}/v1/password-resets/{token}/complete"))
        .json(&json!({ "password": PASSWORD, "password_confirmation": PASSWORD }))
        .send()
        .unwrap();
    assert_eq!(done.status(), 200, "{}", done.text().unwrap());
    let again = http
        .post(format!("{base}/v1/password-resets/{token}/complete"))
        .json(&json!({ "password": PASSWORD, "password_confirmation": PASSWORD }))
        .send()
        .unwrap();
    assert!(again.status().is_client_error(), "a link works once");

    // The change ended the user's sessions at the provider, through the gateway's metered
    // client (which once answered every revocation with "unsupported" without calling).
    let sim = demo
        .stdout
        .lock()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Simulated identity provider: "))
        .map(str::to_owned)
        .expect("the demo prints the simulator's URL");
    let calls: serde_json::Value = http
        .get(format!("{sim}/_sim/calls"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let revoked = calls.as_array().unwrap().iter().any(|c| {
        c["method"] == "DELETE"
            && c["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/api/v2/users/") && p.ends_with("/sessions"))
    });
    assert!(
        revoked,
        "no session revocation reached the provider: {calls}"
    );

    // The mailbox page shows the link as a link.
    let mailbox = http
        .get(format!("{base}/dev/mailbox"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        mailbox.contains(&format!("<a href=\"{base}/reset/confirm?token=")),
        "{mailbox}"
    );

    // The admin key works, and a wrong one is refused.
    let key = demo.admin_key.clone();
    let tenants = http
        .get(format!("{base}/admin/v1/tenants"))
        .bearer_auth(&key)
        .send()
        .unwrap();
    assert_eq!(tenants.status(), 200);
    assert!(tenants.text().unwrap().contains("northbank"));
    let refused = http
        .get(format!("{base}/admin/v1/tenants"))
        .bearer_auth("pgk_not-a-real-key")
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Metrics saw the reset.
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("passgate_resets_completed_total{tenant=\"acme-shop\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("passgate_http_requests_total"),
        "{metrics}"
    );

    let (stdout, stderr) = demo.stop();
    assert!(
        stderr.contains("passgate::security"),
        "trace logs were captured"
    );
    for (name, secret) in [
        ("reset token", token.as_str()),
        ("new password", PASSWORD),
        ("provider client secret", PROVIDER_SECRET),
        ("admin API key", key.as_str()),
    ] {
        assert!(!stderr.contains(secret), "the {name} appears in the logs");
    }
    for (name, secret) in [
        ("reset token", token.as_str()),
        ("new password", PASSWORD),
        ("provider client secret", PROVIDER_SECRET),
    ] {
        assert!(!stdout.contains(secret), "the {name} appears on stdout");
    }
    assert_eq!(
        stdout.matches(key.as_str()).count(),
        1,
        "the admin key is printed once, at start"
    );
}
