//! A tenant's move from Janrain to Auth0 on the admin API (issue 19): only platform admins
//! start and end it, every refusal is specific and changes nothing, the secret never comes
//! back, the YAML and the binding cannot leave what a move needs while it runs, and the
//! tenant's editors read the report of where addresses were found.

#![allow(clippy::panic)]

use passgate_store::{AuditRepo, NewAuditEvent};
use passgate_tenant::TenantId;
use serde_json::{Value, json};

use super::admin_common::{Harness, bearer, harness, start_time};
use super::{body_json, get_yaml, put_yaml};

const SECRET: &str = "janrain-owner-secret-value-42";

fn move_body() -> Value {
    json!({
        "source_domain": "acme.us.janraincapture.com",
        "source_client_id": "owner-client",
        "source_client_secret": SECRET,
        "migrate_on_reset": true,
    })
}

async fn put_move(h: &Harness, key: &str, body: &Value) -> poem::test::TestResponse {
    h.client
        .put("/admin/v1/tenants/alpha/move")
        .header("Authorization", bearer(key))
        .body_json(body)
        .send()
        .await
}

async fn tenant_view(h: &Harness) -> Value {
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha")
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    resp.assert_status_is_ok();
    body_json(resp).await
}

async fn bind_auth0(h: &Harness) {
    h.client
        .patch("/admin/v1/tenants/alpha")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({ "provider": {
            "kind": "auth0",
            "domain": "acme.eu.auth0.com",
            "management_client_id": "m2m",
            "connection": "Username-Password-Authentication",
        }}))
        .send()
        .await
        .assert_status_is_ok();
}

async fn code_of(resp: poem::test::TestResponse, status: u16) -> Value {
    assert_eq!(resp.0.status().as_u16(), status);
    body_json(resp).await
}

#[tokio::test]
async fn only_a_platform_admin_starts_a_move_and_each_refusal_says_why_and_changes_nothing() {
    let h = harness().await;
    // Bound to nothing usable yet: a move goes to an Auth0 binding.
    let before = tenant_view(&h).await;
    if before["provider"]["kind"] != "auth0" {
        let problem = code_of(put_move(&h, &h.admin, &move_body()).await, 422).await;
        assert_eq!(problem["code"], "provider-binding-invalid", "{problem}");
    }
    bind_auth0(&h).await;

    let problem = code_of(put_move(&h, &h.editor, &move_body()).await, 403).await;
    assert_eq!(problem["code"], "forbidden", "{problem}");

    let mut foreign = move_body();
    foreign["source_domain"] = json!("capture.attacker.example");
    let problem = code_of(put_move(&h, &h.admin, &foreign).await, 422).await;
    assert_eq!(problem["code"], "provider-domain-refused", "{problem}");

    let mut both = move_body();
    both["dry_run"] = json!(true);
    let problem = code_of(put_move(&h, &h.admin, &both).await, 422).await;
    assert_eq!(problem["code"], "provider-binding-invalid", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("dry_run"),
        "{problem}"
    );
    assert!(
        tenant_view(&h).await.get("moving_from").is_none(),
        "no refused move was stored"
    );

    put_move(&h, &h.admin, &move_body())
        .await
        .assert_status(poem::http::StatusCode::NO_CONTENT);
    let view = tenant_view(&h).await;
    assert_eq!(
        view["moving_from"],
        json!({
            "source_domain": "acme.us.janraincapture.com",
            "source_client_id": "owner-client",
            "reset_source_too": false,
            "migrate_on_reset": true,
            "dry_run": false,
        })
    );
    assert!(
        !view.to_string().contains(SECRET),
        "the secret never comes back"
    );
    let audit = h
        .store
        .tenant_audit(&TenantId::parse("alpha").unwrap(), 50, None)
        .await
        .unwrap();
    let set = audit
        .iter()
        .find(|e| e.event.action == "tenant.move.set")
        .expect("the move is audited");
    assert_eq!(set.event.details["migrate_on_reset"], true);
    assert!(!format!("{audit:?}").contains(SECRET), "nor is it audited");
}

#[tokio::test]
async fn while_moving_the_yaml_stays_hosted_and_the_binding_stays_auth0() {
    let h = harness().await;
    bind_auth0(&h).await;
    put_move(&h, &h.admin, &move_body())
        .await
        .assert_status(poem::http::StatusCode::NO_CONTENT);

    let (yaml, etag) = get_yaml(&h).await;
    let ticket = if yaml.contains("mode:") {
        yaml.replace("mode: hosted", "mode: auth0_ticket")
    } else {
        format!("{yaml}reset:\n  mode: auth0_ticket\n")
    };
    let resp = put_yaml(&h, &ticket, Some(&etag)).await;
    let problem = code_of(resp, 422).await;
    let errors = problem["errors"].as_array().unwrap();
    let mode = errors
        .iter()
        .find(|e| e["path"] == "reset.mode")
        .unwrap_or_else(|| panic!("the mode is refused at reset.mode: {problem}"));
    assert!(
        mode["message"].as_str().unwrap().contains("moving"),
        "{mode}"
    );
    let line = ticket
        .lines()
        .position(|l| l.contains("mode: auth0_ticket"))
        .unwrap()
        + 1;
    assert_eq!(mode["line"], line, "marked at its line: {mode}");
    assert_eq!(get_yaml(&h).await.0, yaml, "nothing changed");

    let resp = h
        .client
        .patch("/admin/v1/tenants/alpha")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({ "provider": {
            "kind": "janrain",
            "domain": "acme.us.janraincapture.com",
            "management_client_id": "login-client",
        }}))
        .send()
        .await;
    let problem = code_of(resp, 422).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("end the move"),
        "{problem}"
    );
    assert_eq!(tenant_view(&h).await["provider"]["kind"], "auth0");

    // Ended, the tenant is Auth0's alone and the YAML may change mode again.
    let end = |key: String| {
        let client = &h.client;
        async move {
            client
                .delete("/admin/v1/tenants/alpha/move")
                .header("Authorization", bearer(&key))
                .send()
                .await
        }
    };
    end(h.editor.clone())
        .await
        .assert_status(poem::http::StatusCode::FORBIDDEN);
    end(h.admin.clone())
        .await
        .assert_status(poem::http::StatusCode::NO_CONTENT);
    end(h.admin.clone())
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
    assert!(tenant_view(&h).await.get("moving_from").is_none());
    let (_, etag) = get_yaml(&h).await;
    put_yaml(&h, &ticket, Some(&etag))
        .await
        .assert_status(poem::http::StatusCode::CREATED);
}

async fn record(h: &Harness, action: &str, outcome: &str, details: Value) {
    h.store
        .append_audit(NewAuditEvent {
            tenant_id: Some(TenantId::parse("alpha").unwrap()),
            actor: "system".into(),
            action: action.into(),
            outcome: outcome.into(),
            request_id: None,
            client_id: None,
            details,
            created_at: start_time(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_tenants_editors_read_where_recent_requests_found_their_accounts() {
    let h = harness().await;
    for placement in [
        "source_only",
        "source_only",
        "both",
        "target_only",
        "neither",
    ] {
        record(
            &h,
            "reset.issue",
            "queued",
            json!({ "placement": placement }),
        )
        .await;
    }
    // A look-up from before the move has no placement: not counted.
    record(&h, "reset.issue", "queued", json!({})).await;
    for served in ["migrated", "target", "migrated"] {
        record(&h, "move.served", served, json!({})).await;
    }
    let report = |key: String, last: &'static str| {
        let client = &h.client;
        async move {
            client
                .get(format!("/admin/v1/tenants/alpha/move/report{last}"))
                .header("Authorization", bearer(&key))
                .send()
                .await
        }
    };
    let all = code_of(report(h.editor.clone(), "").await, 200).await;
    assert_eq!(all["requests"], 5);
    assert_eq!(all["source_only"], 2);
    assert_eq!(all["both"], 1);
    assert_eq!(all["target_only"], 1);
    assert_eq!(all["neither"], 1);
    assert_eq!(all["migrated"], 2);
    assert_eq!(all["served_by_target"], 1);
    assert_eq!(
        all["summary"],
        "of the last 5 requests, 2 found only in Janrain, 1 in both, 1 only in Auth0, 1 in neither"
    );
    // The newest two: "neither" and "target_only".
    let two = code_of(report(h.editor.clone(), "?last=2").await, 200).await;
    assert_eq!(
        (two["requests"].clone(), two["source_only"].clone()),
        (json!(2), json!(0))
    );
    code_of(report(h.other_editor.clone(), "").await, 403).await;

    let stats = h
        .client
        .get("/admin/v1/tenants/alpha/stats")
        .header("Authorization", bearer(&h.editor))
        .send()
        .await;
    let stats = code_of(stats, 200).await;
    assert_eq!(
        stats["days"][0]["served_by"],
        json!({ "migrated": 2, "target": 1 }),
        "{stats}"
    );
}
