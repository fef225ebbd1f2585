//! Issue 13, finding 3: a tenant editor cannot send mail as another brand. A sender domain
//! outside what a platform admin granted the tenant is a validation error at `email.from`
//! (with no grant, only the platform's own sender domain is allowed), and test emails go
//! only to allowed recipients or to the address registered with the calling key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;

use admin_common::{Harness, bearer, harness_with};
use passgate_store::AuditRepo;
use passgate_web::admin::AdminSettings;
use serde_json::{Value, json};

const SPOOFED: &str = "Northbank Security <security-noreply@northbank.example>";

fn settings() -> AdminSettings {
    AdminSettings {
        mail_from: "Passgate <no-reply@reset.example.com>".into(),
        ..AdminSettings::default()
    }
}

async fn body_json(resp: poem::test::TestResponse) -> Value {
    serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap()
}

/// The active YAML of `tenant` with `email.from` set to `from` (and a comment line, so the
/// key is not on the first lines).
async fn yaml_with_from(h: &Harness, tenant: &str, from: &str) -> String {
    let resp = h
        .client
        .get(format!("/admin/v1/tenants/{tenant}/config"))
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    resp.assert_status_is_ok();
    let yaml = resp.0.into_body().into_string().await.unwrap();
    format!("{yaml}email:\n  # who the reset mail is from\n  from: {from}\n")
}

async fn put_config(h: &Harness, key: &str, tenant: &str, yaml: &str) -> poem::test::TestResponse {
    h.client
        .put(format!("/admin/v1/tenants/{tenant}/config"))
        .header("Authorization", bearer(key))
        .header("If-Match", "*")
        .content_type("application/yaml")
        .body(yaml.to_owned())
        .send()
        .await
}

async fn grant(h: &Harness, key: &str, tenant: &str, what: &str, body: Value) -> u16 {
    h.client
        .put(format!("/admin/v1/tenants/{tenant}/{what}"))
        .header("Authorization", bearer(key))
        .body_json(&body)
        .send()
        .await
        .0
        .status()
        .as_u16()
}

/// The one `email.from` problem of a 422 `invalid-config`.
async fn sender_problem(resp: poem::test::TestResponse) -> Value {
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem = body_json(resp).await;
    assert_eq!(problem["code"], "invalid-config", "{problem}");
    let errors: Vec<&Value> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "email.from")
        .collect();
    assert_eq!(errors.len(), 1, "{problem}");
    errors[0].clone()
}

#[tokio::test]
async fn an_editor_cannot_publish_another_brands_sender() {
    let h = harness_with(settings()).await;
    assert_eq!(
        grant(
            &h,
            &h.admin,
            "alpha",
            "sender-domains",
            json!({"domains": ["Acme-Shop.example.com"]}),
        )
        .await,
        200
    );
    let spoofed = yaml_with_from(&h, "alpha", SPOOFED).await;
    let from_line = spoofed.lines().position(|l| l.contains("from:")).unwrap() + 1;

    let problem = sender_problem(put_config(&h, &h.editor, "alpha", &spoofed).await).await;
    assert_eq!(problem["line"], from_line, "{problem}");
    assert_eq!(problem["column"], 3, "{problem}");
    let message = problem["message"].as_str().unwrap();
    assert!(message.contains("northbank.example"), "{message}");
    assert!(message.contains("acme-shop.example.com"), "{message}");

    // The dry run says the same; nothing was stored.
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/config/validate")
        .header("Authorization", bearer(&h.editor))
        .content_type("application/yaml")
        .body(spoofed.clone())
        .send()
        .await;
    resp.assert_status_is_ok();
    let report = body_json(resp).await;
    assert_eq!(report["valid"], false, "{report}");
    assert!(
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["path"] == "email.from")
    );
    let versions = h
        .client
        .get("/admin/v1/tenants/alpha/config/versions")
        .header("Authorization", bearer(&h.editor))
        .send()
        .await;
    assert_eq!(body_json(versions).await.as_array().unwrap().len(), 1);

    // A test email of the spoofed draft is refused for the same reason, and sends nothing.
    grant(
        &h,
        &h.admin,
        "alpha",
        "test-recipients",
        json!({"recipients": ["po@acme-shop.example.com"]}),
    )
    .await;
    let resp = h
        .client
        .post("/admin/v1/tenants/alpha/test-email")
        .header("Authorization", bearer(&h.editor))
        .body_json(&json!({"to": "po@acme-shop.example.com", "yaml": spoofed}))
        .send()
        .await;
    sender_problem(resp).await;
    assert!(h.mailbox.messages().is_empty());

    // The tenant's own granted domain is fine, and the grant was audited.
    let own = yaml_with_from(&h, "alpha", "Acme Shop <no-reply@acme-shop.example.com>").await;
    put_config(&h, &h.editor, "alpha", &own)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    let audit = h.store.all_audit(100, None).await.unwrap();
    let granted = audit
        .iter()
        .find(|e| e.event.action == "tenant.sender_domains.set")
        .unwrap();
    assert_eq!(
        granted.event.details["domains"],
        json!(["acme-shop.example.com"])
    );
    assert_eq!(granted.event.tenant_id.as_ref().unwrap().as_str(), "alpha");
}

#[tokio::test]
async fn with_no_grant_only_the_platform_sender_domain_is_allowed() {
    let h = harness_with(settings()).await;
    let spoofed = yaml_with_from(&h, "beta", SPOOFED).await;
    let problem = sender_problem(put_config(&h, &h.other_editor, "beta", &spoofed).await).await;
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains("platform's sender domain reset.example.com"),
        "{message}"
    );
    let platform = yaml_with_from(&h, "beta", "Beta <beta@reset.example.com>").await;
    put_config(&h, &h.other_editor, "beta", &platform)
        .await
        .assert_status(poem::http::StatusCode::CREATED);

    // A tenant created with its own domain may use it from version 1 on; without the
    // grant the same initial YAML is refused.
    let yaml = "id: gamma\ndisplay_name: Gamma\nclient_ids: [gamma-ios]\ntheme: default\n\
                locales:\n  default: en\n  supported: [en]\n\
                email:\n  from: Gamma <hi@gamma.example>\n";
    let create = |domains: Value| {
        h.client
            .post("/admin/v1/tenants")
            .header("Authorization", bearer(&h.admin))
            .body_json(&json!({
                "id": "gamma", "display_name": "Gamma", "client_ids": ["gamma-ios"],
                "yaml": yaml, "sender_domains": domains,
            }))
            .send()
    };
    sender_problem(create(json!([])).await).await;
    create(json!(["gamma.example"]))
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    let resp = h
        .client
        .get("/admin/v1/tenants/gamma/sender-domains")
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    assert_eq!(body_json(resp).await["domains"], json!(["gamma.example"]));
}

#[tokio::test]
async fn test_emails_go_only_to_allowed_recipients_or_the_keys_own_address() {
    let h = harness_with(settings()).await;
    let send = |key: String, to: &'static str| {
        h.client
            .post("/admin/v1/tenants/alpha/test-email")
            .header("Authorization", bearer(&key))
            .body_json(&json!({"to": to}))
            .send()
    };
    // Nobody is allowed yet: an outside address is refused and nothing is sent.
    let resp = send(h.editor.clone(), "victim@outside.example").await;
    resp.assert_status(poem::http::StatusCode::FORBIDDEN);
    let problem = body_json(resp).await;
    assert_eq!(problem["code"], "recipient-not-allowed", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("test-recipients")
    );
    assert!(h.mailbox.messages().is_empty());

    // A platform admin allows one address (stored lowercase); it works, others still do not.
    assert_eq!(
        grant(
            &h,
            &h.admin,
            "alpha",
            "test-recipients",
            json!({"recipients": ["PO@Alpha.example"]}),
        )
        .await,
        200
    );
    send(h.editor.clone(), "po@alpha.example")
        .await
        .assert_status(poem::http::StatusCode::ACCEPTED);
    send(h.editor.clone(), "victim@outside.example")
        .await
        .assert_status(poem::http::StatusCode::FORBIDDEN);
    // Another tenant's allowed recipients are not this tenant's.
    let resp = h
        .client
        .post("/admin/v1/tenants/beta/test-email")
        .header("Authorization", bearer(&h.other_editor))
        .body_json(&json!({"to": "po@alpha.example"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::FORBIDDEN);

    // A key minted with the holder's address may send there (and only the hash is kept).
    let resp = h
        .client
        .post("/admin/v1/keys")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({
            "role": "tenant-editor", "tenants": ["alpha"], "label": "designer",
            "email": "Designer@Alpha.example",
        }))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let created = body_json(resp).await;
    assert_eq!(created["metadata"]["has_email"], true);
    assert!(!created.to_string().contains("esigner@"), "{created}");
    let designer = created["key"].as_str().unwrap().to_owned();
    send(designer.clone(), "designer@alpha.example")
        .await
        .assert_status(poem::http::StatusCode::ACCEPTED);
    send(designer, "someone@alpha.example")
        .await
        .assert_status(poem::http::StatusCode::FORBIDDEN);

    let sent: Vec<String> = h.mailbox.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(sent, ["po@alpha.example", "designer@alpha.example"]);
}

#[tokio::test]
async fn a_tenant_editor_can_neither_read_nor_grant_sender_domains_or_recipients() {
    let h = harness_with(settings()).await;
    for (what, body) in [
        ("sender-domains", json!({"domains": ["northbank.example"]})),
        (
            "test-recipients",
            json!({"recipients": ["victim@outside.example"]}),
        ),
    ] {
        for key in [&h.editor, &h.other_editor] {
            assert_eq!(
                grant(&h, key, "alpha", what, body.clone()).await,
                403,
                "{what}"
            );
            let resp = h
                .client
                .get(format!("/admin/v1/tenants/alpha/{what}"))
                .header("Authorization", bearer(key))
                .send()
                .await;
            resp.assert_status(poem::http::StatusCode::FORBIDDEN);
        }
    }
    // Nothing was granted: the editor still cannot send as northbank or to the victim.
    let spoofed = yaml_with_from(&h, "alpha", SPOOFED).await;
    sender_problem(put_config(&h, &h.editor, "alpha", &spoofed).await).await;
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha/sender-domains")
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    assert_eq!(body_json(resp).await["domains"], json!([]));
    // Invalid grants are refused whole.
    for (what, body) in [
        ("sender-domains", json!({"domains": ["*.example.com"]})),
        ("sender-domains", json!({"domains": ["a@b.example"]})),
        (
            "test-recipients",
            json!({"recipients": ["a@b.example, c@d.example"]}),
        ),
    ] {
        assert_eq!(
            grant(&h, &h.admin, "alpha", what, body.clone()).await,
            422,
            "{body}"
        );
    }
}
