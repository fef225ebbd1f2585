//! Issue 13, finding 2 (availability): every authenticated admin request spends its API
//! key's per-minute budget, expensive ones (document checks, test emails) a smaller one
//! too; over budget the key gets 429 problem+json with `Retry-After`, other keys are not
//! affected, and the budget refills with the next window. When every document check slot
//! is busy, a check waits briefly and then gets 503 `checks-busy` with `Retry-After`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;

use std::time::Duration;

use admin_common::{bearer, harness_with};
use passgate_web::admin::AdminSettings;
use serde_json::Value;

async fn validate(h: &admin_common::Harness, key: &str, yaml: &str) -> poem::test::TestResponse {
    h.client
        .post("/admin/v1/tenants/alpha/config/validate")
        .header("Authorization", bearer(key))
        .content_type("application/yaml")
        .body(yaml.to_owned())
        .send()
        .await
}

async fn get_config(h: &admin_common::Harness, key: &str) -> poem::test::TestResponse {
    h.client
        .get("/admin/v1/tenants/alpha/config")
        .header("Authorization", bearer(key))
        .send()
        .await
}

/// Asserts a 429 `rate-limited` problem with a sane `Retry-After`.
async fn assert_limited(resp: poem::test::TestResponse) {
    resp.assert_status(poem::http::StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp
        .0
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let ct = resp
        .0
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    let body: Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    assert_eq!(body["code"], "rate-limited", "{body}");
}

#[tokio::test]
async fn each_key_has_a_per_minute_budget_and_a_smaller_one_for_expensive_calls() {
    let h = harness_with(AdminSettings {
        requests_per_minute: 6,
        expensive_requests_per_minute: 2,
        ..AdminSettings::default()
    })
    .await;
    let yaml = get_config(&h, &h.editor)
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    // 1 request spent. Two validates fit the expensive budget, the third does not.
    validate(&h, &h.editor, &yaml).await.assert_status_is_ok();
    validate(&h, &h.editor, &yaml).await.assert_status_is_ok();
    assert_limited(validate(&h, &h.editor, &yaml).await).await;
    // Cheap calls still work until the key's overall budget (6) is spent.
    get_config(&h, &h.editor).await.assert_status_is_ok();
    get_config(&h, &h.editor).await.assert_status_is_ok();
    assert_limited(get_config(&h, &h.editor).await).await;
    // Another key of the same tenant is not affected.
    get_config(&h, &h.admin).await.assert_status_is_ok();
    validate(&h, &h.admin, &yaml).await.assert_status_is_ok();
    // The next window refills the budget.
    h.clock.advance(chrono::TimeDelta::seconds(60));
    get_config(&h, &h.editor).await.assert_status_is_ok();
    validate(&h, &h.editor, &yaml).await.assert_status_is_ok();
}

#[tokio::test]
async fn the_defaults_are_sane() {
    let s = AdminSettings::default();
    assert_eq!(s.requests_per_minute, 120);
    assert_eq!(s.expensive_requests_per_minute, 20);
    assert!(s.document_check_wait <= Duration::from_secs(5));
}

/// A document whose script loops: each example runs until its CPU budget is spent.
fn looping(yaml: &str) -> String {
    format!(
        "{yaml}password_policy:\n  script:\n    source: |\n      function validate(p, ctx) {{ while (true) {{}} }}\n    examples:\n      - password: \"one two three four five\"\n        expect: []\n      - password: \"six seven eight nine ten\"\n        expect: []\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_finds_every_slot_busy_gets_503_with_retry_after() {
    let h = harness_with(AdminSettings {
        document_checks: 1,
        document_check_wait: Duration::from_millis(200),
        ..AdminSettings::default()
    })
    .await;
    let yaml = get_config(&h, &h.admin)
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    let slow = looping(&yaml);
    // Polled first, the looping check takes the only slot; the second waits, then gives up.
    let (first, resp) = tokio::join!(validate(&h, &h.editor, &slow), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        validate(&h, &h.admin, &yaml).await
    });
    resp.assert_status(poem::http::StatusCode::SERVICE_UNAVAILABLE);
    let retry = resp
        .0
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_owned();
    assert!(retry.to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    assert_eq!(body["code"], "checks-busy", "{body}");
    // The looping document itself is answered (invalid), and the slot is free again.
    first.assert_status_is_ok();
    validate(&h, &h.admin, &yaml).await.assert_status_is_ok();
}
