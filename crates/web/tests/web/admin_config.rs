//! What a product owner sees editing a tenant: read with ETag, rejected writes with every
//! problem and nothing changed, optimistic concurrency, versions with diffs, rollback that
//! routing serves at once, previews, test emails; and the API's input hygiene (415, 400).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;
#[path = "admin_config/binding.rs"]
mod binding;
#[path = "admin_config/moves.rs"]
mod moves;

use admin_common::{bearer, harness};
use passgate_tenant::ClientId;
use serde_json::{Value, json};

async fn body_json(resp: poem::test::TestResponse) -> Value {
    serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap()
}

async fn get_yaml(h: &admin_common::Harness) -> (String, String) {
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha/config")
        .header("Authorization", bearer(&h.editor))
        .send()
        .await;
    resp.assert_status_is_ok();
    let etag = resp
        .0
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    (resp.0.into_body().into_string().await.unwrap(), etag)
}

async fn put_yaml(
    h: &admin_common::Harness,
    yaml: &str,
    if_match: Option<&str>,
) -> poem::test::TestResponse {
    let mut req = h
        .client
        .put("/admin/v1/tenants/alpha/config")
        .header("Authorization", bearer(&h.editor))
        .content_type("application/yaml");
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    req.body(yaml.to_owned()).send().await
}

#[tokio::test]
async fn a_product_owner_edits_validates_publishes_and_rolls_back() {
    let h = harness().await;
    let client = ClientId::parse("alpha-ios").unwrap();
    assert_eq!(h.router.resolve(&client).await.unwrap().version, 1);

    let (yaml, etag) = get_yaml(&h).await;
    assert_eq!(etag, "\"1\"");
    assert!(yaml.contains("id: alpha"));

    // A document with several mistakes: all reported, with positions; nothing changes.
    let bad = yaml.replace("theme: default", "theme: nope\ncolour: red")
        + "password_policy:\n  min_length: 2\n";
    let resp = put_yaml(&h, &bad, Some(&etag)).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.0
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let problem = body_json(resp).await;
    assert_eq!(problem["code"], "invalid-config");
    let errors = problem["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["path"] == "colour" && e["line"].as_u64().unwrap() > 1),
        "{problem}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["line"].as_u64().unwrap() >= 1 && e["column"].as_u64().unwrap() >= 1)
    );
    assert_eq!(
        get_yaml(&h).await.1,
        "\"1\"",
        "the active version is unchanged"
    );

    // The dry run reports the same without storing.
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/config/validate")
        .header("Authorization", bearer(&h.editor))
        .content_type("application/yaml")
        .body(bad.clone())
        .send()
        .await;
    resp.assert_status_is_ok();
    let report = body_json(resp).await;
    assert_eq!(report["valid"], false);
    assert!(!report["problems"].as_array().unwrap().is_empty());

    // Without If-Match: 428. With a stale one: 412.
    let good = yaml.replace(
        "display_name: \"alpha app\"",
        "display_name: \"Alpha Fitness\"",
    );
    assert_ne!(good, yaml);
    put_yaml(&h, &good, None)
        .await
        .assert_status(poem::http::StatusCode::PRECONDITION_REQUIRED);
    put_yaml(&h, &good, Some("\"7\""))
        .await
        .assert_status(poem::http::StatusCode::PRECONDITION_FAILED);

    // Publish: version 2, served by routing at once.
    let resp = put_yaml(&h, &good, Some(&etag)).await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(resp.0.headers().get("etag").unwrap(), "\"2\"");
    let runtime = h.router.resolve(&client).await.unwrap();
    assert_eq!(runtime.version, 2);
    assert_eq!(runtime.config.display_name, "Alpha Fitness");

    // A second editor still holding ETag 1 cannot overwrite it.
    put_yaml(&h, &yaml, Some(&etag))
        .await
        .assert_status(poem::http::StatusCode::PRECONDITION_FAILED);

    // Versions: author, time, diff.
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha/config/versions")
        .header("Authorization", bearer(&h.editor))
        .send()
        .await;
    resp.assert_status_is_ok();
    let versions = body_json(resp).await;
    let newest = &versions[0];
    assert_eq!(newest["version"], 2);
    assert_eq!(newest["active"], true);
    assert!(newest["author"].as_str().unwrap().contains("alpha po"));
    let diff = newest["diff"].as_str().unwrap();
    assert!(
        diff.contains("-display_name: \"alpha app\"")
            && diff.contains("+display_name: \"Alpha Fitness\""),
        "{diff}"
    );
    assert_eq!(versions[1]["diff"], "");

    // Roll back to 1: served at once.
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/config/versions/1/activate")
        .header("Authorization", bearer(&h.editor))
        .header("If-Match", "\"2\"")
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(h.router.resolve(&client).await.unwrap().version, 1);
    assert_eq!(get_yaml(&h).await.1, "\"1\"");
}

#[tokio::test]
async fn a_document_for_another_tenant_or_claiming_client_ids_is_refused() {
    let h = harness().await;
    let (yaml, etag) = get_yaml(&h).await;
    let other = yaml.replace("id: alpha", "id: beta");
    let resp = put_yaml(&h, &other, Some(&etag)).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem = body_json(resp).await;
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "id")
    );

    let claim = yaml.replace("[\"alpha-ios\"]", "[\"alpha-ios\", \"beta-ios\"]");
    assert_ne!(claim, yaml);
    let resp = put_yaml(&h, &claim, Some(&etag)).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem = body_json(resp).await;
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "client_ids")
    );
}

#[tokio::test]
async fn wrong_content_types_get_415_and_unknown_fields_get_400() {
    let h = harness().await;
    let (yaml, etag) = get_yaml(&h).await;
    let resp = h
        .client
        .put("/admin/v1/tenants/alpha/config")
        .header("Authorization", bearer(&h.editor))
        .header("If-Match", etag)
        .content_type("text/plain")
        .body(yaml)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body_json(resp).await["code"], "unsupported-media-type");

    let resp = h
        .client
        .post("/admin/v1/tenants")
        .header("Authorization", bearer(&h.admin))
        .content_type("text/plain")
        .body(r#"{"id":"x","display_name":"X","client_ids":[]}"#)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);

    for (path, body) in [
        (
            "/admin/v1/tenants",
            json!({"id": "delta", "display_name": "D", "client_ids": [], "tenant_id": "alpha"}),
        ),
        (
            "/admin/v1/keys",
            json!({"role": "tenant-editor", "tenants": ["alpha"], "label": "x", "created_by": "root"}),
        ),
        (
            "/admin/v1/tenants/alpha/preview",
            json!({"page": "request", "role": "platform-admin"}),
        ),
    ] {
        let principal = if path.contains("preview") {
            &h.editor
        } else {
            &h.admin
        };
        let resp = h
            .client
            .post(path)
            .header("Authorization", bearer(principal))
            .body_json(&body)
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
        let problem = body_json(resp).await;
        assert_eq!(problem["code"], "invalid-request", "{path}: {problem}");
    }
}

/// The `/v1` hardening holds on the admin API too: a repeated JSON key is a 400
/// `duplicate-field` (once the key is known; strangers still get 401), and a number where a
/// string belongs is not turned into one.
#[tokio::test]
async fn admin_bodies_refuse_repeated_keys_and_juggled_types() {
    let h = harness().await;
    let repeated = r#"{"id":"delta","display_name":"D","client_ids":[],"id":"alpha"}"#;
    let resp = h
        .client
        .post("/admin/v1/tenants")
        .header("Authorization", bearer(&h.admin))
        .content_type("application/json")
        .body(repeated)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
    let problem = body_json(resp).await;
    assert_eq!(problem["code"], "duplicate-field", "{problem}");
    assert_eq!(problem["type"], "urn:passgate:problem:duplicate-field");
    let stranger = h
        .client
        .post("/admin/v1/tenants")
        .content_type("application/json")
        .body(repeated)
        .send()
        .await;
    stranger.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    let listed = h
        .client
        .get("/admin/v1/tenants/delta")
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    listed.assert_status(poem::http::StatusCode::NOT_FOUND);

    let juggled = h
        .client
        .post("/admin/v1/tenants")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({"id": "delta", "display_name": 42, "client_ids": []}))
        .send()
        .await;
    juggled.assert_status(poem::http::StatusCode::BAD_REQUEST);
    assert_eq!(body_json(juggled).await["code"], "invalid-request");
}

#[tokio::test]
async fn previews_render_pages_and_emails_of_drafts_in_supported_locales() {
    let h = harness().await;
    let (yaml, _) = get_yaml(&h).await;
    let draft = yaml
        .replace(
            "display_name: \"alpha app\"",
            "display_name: \"Draft Name\"",
        )
        .replace("supported: [en]", "supported: [en, fr]");
    for (body, needle) in [
        (json!({"page": "request"}), "alpha app"),
        (json!({"page": "new_password", "yaml": draft}), "Draft Name"),
        (
            json!({"email": "reset_link", "yaml": draft, "locale": "fr"}),
            "Draft Name",
        ),
        (json!({"page": "success", "version": 1}), "alpha app"),
        // The dead ends users meet preview too, as users get them (issue 16).
        (json!({"page": "rate_limited"}), "23:45 UTC"),
        (json!({"page": "bad_redirect"}), "alpha app"),
        (json!({"page": "stale_form"}), "alpha app"),
    ] {
        let resp = h
            .client
            .post("/admin/v1/tenants/alpha/preview")
            .header("Authorization", bearer(&h.editor))
            .body_json(&body)
            .send()
            .await;
        resp.assert_status_is_ok();
        let csp = resp
            .0
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("sandbox"), "{csp}");
        let html = resp.0.into_body().into_string().await.unwrap();
        assert!(html.contains(needle), "{body}: {needle} not in preview");
    }
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/preview")
        .header("Authorization", bearer(&h.editor))
        .body_json(&json!({"page": "request", "locale": "de"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(resp).await["code"], "unsupported-locale");
}

#[tokio::test]
async fn test_emails_are_sent_and_rate_limited_per_tenant() {
    let settings = passgate_web::admin::AdminSettings {
        test_emails_per_hour: 2,
        ..Default::default()
    };
    let h = admin_common::harness_with(settings).await;
    h.client
        .put("/admin/v1/tenants/alpha/test-recipients")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({"recipients": ["po@example.com"]}))
        .send()
        .await
        .assert_status_is_ok();
    for expected in [202, 202, 429] {
        let resp = h
            .client
            .post("/admin/v1/tenants/alpha/test-email")
            .header("Authorization", bearer(&h.editor))
            .body_json(&json!({"to": "po@example.com", "email": "reset_code"}))
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), expected);
    }
    let sent = h.mailbox.messages();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].to, "po@example.com");
    assert!(sent[0].subject.starts_with("[TEST]"));
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/test-email")
        .header("Authorization", bearer(&h.editor))
        .body_json(&json!({"to": "a@example.com, b@example.com"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn reset_statistics_count_engine_events_per_day() {
    use passgate_store::{AuditRepo, NewAuditEvent};
    use passgate_tenant::TenantId;
    let h = harness().await;
    let tenant = TenantId::parse("alpha").unwrap();
    for (action, outcome) in [
        ("reset.requested", "queued"),
        ("reset.requested", "queued"),
        ("reset.requested", "rate_limited:ip"),
        ("reset.complete", "ok"),
        ("reset.complete", "policy"),
        ("reset.token_refused", "expired"),
    ] {
        h.store
            .append_audit(NewAuditEvent {
                tenant_id: Some(tenant.clone()),
                actor: "system".into(),
                action: action.into(),
                outcome: outcome.into(),
                request_id: None,
                client_id: None,
                details: json!({}),
                created_at: admin_common::start_time(),
            })
            .await
            .unwrap();
    }
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha/stats?days=7")
        .header("Authorization", bearer(&h.editor))
        .send()
        .await;
    resp.assert_status_is_ok();
    let stats = body_json(resp).await;
    let day = &stats["days"][0];
    assert_eq!(day["requested"], 3);
    assert_eq!(day["completed"], 1);
    assert_eq!(day["failed"]["complete:policy"], 1);
    assert_eq!(day["failed"]["token:expired"], 1);
    assert_eq!(day["failed"]["request:rate_limited:ip"], 1);
}
