//! The RBAC matrix: every admin route × {no key, revoked key, editor of another tenant,
//! editor of this tenant, platform admin}, with the status each must get, in one table.
//! Also: every 401 and 403 leaves an audit event. Sender domains and test recipients are
//! platform-admin only: a tenant editor can neither read nor grant them. Every platform write
//! is audited under its action; a refused one (a key scope that does not fit its role, a key
//! revoking itself) changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;

use admin_common::{bearer, harness};
use passgate_store::{ApiKeyRepo, AuditRepo, TenantRepo};
use serde_json::{Value, json};

/// What a route's request carries.
enum Body {
    None,
    Json(Value),
    Yaml,
}

struct Row {
    method: &'static str,
    path: &'static str,
    body: Body,
    if_match: bool,
    /// Expected for [no key, revoked, editor of another tenant, editor of this tenant, admin].
    expect: [u16; 5],
}

const ED: [u16; 5] = [401, 401, 403, 200, 200];

fn row(method: &'static str, path: &'static str, body: Body, expect: [u16; 5]) -> Row {
    Row {
        method,
        path,
        body,
        if_match: false,
        expect,
    }
}

fn platform(ok: u16) -> [u16; 5] {
    [401, 401, 403, 403, ok]
}

fn editor(ok: u16) -> [u16; 5] {
    [401, 401, 403, ok, ok]
}

#[tokio::test]
async fn every_route_answers_each_principal_as_the_matrix_says() {
    let h = harness().await;
    // A throwaway key for the revoke row.
    let (spare, _) = admin_common::key(
        &h.store,
        passgate_store::ApiRole::TenantEditor,
        &["alpha"],
        "spare",
    )
    .await;
    let revoke_path: &'static str =
        Box::leak(format!("/admin/v1/keys/{}", spare.0).into_boxed_str());

    let rows = vec![
        row(
            "POST",
            "/admin/v1/tenants",
            Body::Json(json!({"id": "gamma", "display_name": "G", "client_ids": ["gamma-ios"]})),
            platform(201),
        ),
        row("GET", "/admin/v1/tenants", Body::None, platform(200)),
        row("GET", "/admin/v1/tenants/alpha", Body::None, platform(200)),
        row(
            "PATCH",
            "/admin/v1/tenants/alpha",
            Body::Json(json!({"display_name": "Alpha"})),
            platform(200),
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/client-ids",
            Body::Json(json!({"client_id": "alpha-web"})),
            platform(201),
        ),
        row(
            "DELETE",
            "/admin/v1/tenants/alpha/client-ids/alpha-web",
            Body::None,
            platform(204),
        ),
        row(
            "PUT",
            "/admin/v1/tenants/alpha/provider-secret",
            Body::Json(json!({"secret": "rotated-secret-value"})),
            platform(204),
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/disable",
            Body::None,
            platform(200),
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/enable",
            Body::None,
            platform(200),
        ),
        row(
            "PUT",
            "/admin/v1/tenants/alpha/sender-domains",
            Body::Json(json!({"domains": ["alpha.example"]})),
            platform(200),
        ),
        row(
            "GET",
            "/admin/v1/tenants/alpha/sender-domains",
            Body::None,
            platform(200),
        ),
        row(
            "PUT",
            "/admin/v1/tenants/alpha/test-recipients",
            Body::Json(json!({"recipients": ["po@example.com"]})),
            platform(200),
        ),
        row(
            "GET",
            "/admin/v1/tenants/alpha/test-recipients",
            Body::None,
            platform(200),
        ),
        row("GET", "/admin/v1/tenants/alpha/config", Body::None, ED),
        Row {
            if_match: true,
            ..row(
                "PUT",
                "/admin/v1/tenants/alpha/config",
                Body::Yaml,
                editor(201),
            )
        },
        row(
            "POST",
            "/admin/v1/tenants/alpha/config/validate",
            Body::Yaml,
            editor(200),
        ),
        row(
            "GET",
            "/admin/v1/tenants/alpha/config/versions",
            Body::None,
            ED,
        ),
        row(
            "GET",
            "/admin/v1/tenants/alpha/config/versions/1",
            Body::None,
            ED,
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/config/versions/1/activate",
            Body::None,
            ED,
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/preview",
            Body::Json(json!({"page": "request"})),
            ED,
        ),
        row(
            "POST",
            "/admin/v1/tenants/alpha/test-email",
            Body::Json(json!({"to": "po@example.com"})),
            editor(202),
        ),
        row("GET", "/admin/v1/tenants/alpha/audit", Body::None, ED),
        row("GET", "/admin/v1/tenants/alpha/stats", Body::None, ED),
        row("GET", "/admin/v1/audit", Body::None, platform(200)),
        row(
            "POST",
            "/admin/v1/keys",
            Body::Json(json!({"role": "tenant-editor", "tenants": ["alpha"], "label": "new"})),
            platform(201),
        ),
        row("GET", "/admin/v1/keys", Body::None, platform(200)),
        row("DELETE", revoke_path, Body::None, platform(204)),
        // Last: it removes the tenant the other rows use.
        row(
            "DELETE",
            "/admin/v1/tenants/alpha",
            Body::None,
            platform(204),
        ),
    ];

    let yaml = {
        let resp = h
            .client
            .get("/admin/v1/tenants/alpha/config")
            .header("Authorization", bearer(&h.admin))
            .send()
            .await;
        resp.assert_status_is_ok();
        resp.0.into_body().into_string().await.unwrap()
    };
    let keys: [Option<&str>; 5] = [
        None,
        Some(&h.revoked),
        Some(&h.other_editor),
        Some(&h.editor),
        Some(&h.admin),
    ];
    let names = [
        "no key",
        "revoked key",
        "editor of beta",
        "editor of alpha",
        "platform admin",
    ];
    let mut failures = Vec::new();
    let mut denials = 0;
    for row in &rows {
        for (i, key) in keys.iter().enumerate() {
            let method: poem::http::Method = row.method.parse().unwrap();
            let mut req = h.client.request(method, row.path);
            if let Some(key) = key {
                req = req.header("Authorization", bearer(key));
            }
            if row.if_match {
                req = req.header("If-Match", "*");
            }
            req = match &row.body {
                Body::None => req,
                Body::Json(v) => req.body_json(v),
                Body::Yaml => req.content_type("application/yaml").body(yaml.clone()),
            };
            let resp = req.send().await;
            let got = resp.0.status().as_u16();
            if got == 401 || got == 403 {
                denials += 1;
                let ct = resp
                    .0
                    .headers()
                    .get("content-type")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(
                    ct.starts_with("application/problem+json"),
                    "{} {}: {ct}",
                    row.method,
                    row.path
                );
            }
            if got != row.expect[i] {
                let body = resp.0.into_body().into_string().await.unwrap_or_default();
                failures.push(format!(
                    "{} {} as {}: expected {}, got {got}: {body}",
                    row.method, row.path, names[i], row.expect[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC matrix mismatches:\n{}",
        failures.join("\n")
    );

    // Every refusal is in the audit log.
    let audited = h
        .store
        .all_audit(10_000, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "admin.access_denied")
        .count();
    assert_eq!(audited, denials, "one audit event per 401/403");
}

#[tokio::test]
async fn an_editor_cannot_reach_another_tenant_through_any_spelling() {
    let h = harness().await;
    for path in [
        "/admin/v1/tenants/beta/config",
        "/admin/v1/tenants/BETA/config",
        "/admin/v1/tenants/nonexistent/config",
        "/admin/v1/tenants/alpha%2F..%2Fbeta/config",
    ] {
        let resp = h
            .client
            .get(path)
            .header("Authorization", bearer(&h.editor))
            .send()
            .await;
        let status = resp.0.status().as_u16();
        assert!(status == 403 || status == 404, "{path}: {status}");
        let body = resp.0.into_body().into_string().await.unwrap();
        assert!(!body.contains("display_name"), "{path} leaked data: {body}");
    }
}

/// The audit events of `action`, newest first.
async fn audited(h: &admin_common::Harness, action: &str) -> Vec<Value> {
    let audit = h.store.all_audit(500, None).await.unwrap();
    audit
        .iter()
        .filter(|e| e.event.action == action)
        .map(|e| e.event.details.clone())
        .collect()
}

#[tokio::test]
async fn every_platform_write_is_audited_and_a_refused_one_changes_nothing() {
    let h = harness().await;
    let admin = bearer(&h.admin);
    let send = |method: &str, path: &str, body: Option<Value>| {
        let request = match method {
            "POST" => h.client.post(path),
            "PUT" => h.client.put(path),
            _ => h.client.delete(path),
        };
        let request = request.header("Authorization", admin.clone());
        match body {
            Some(body) => request.body_json(&body),
            None => request,
        }
        .send()
    };
    send("POST", "/admin/v1/tenants/alpha/disable", None)
        .await
        .assert_status_is_ok();
    assert_eq!(
        audited(&h, "tenant.status").await,
        [json!({"status": "disabled"})]
    );
    send("POST", "/admin/v1/tenants/alpha/enable", None)
        .await
        .assert_status_is_ok();
    let added = send(
        "POST",
        "/admin/v1/tenants/alpha/client-ids",
        Some(json!({"client_id": "alpha-tablet"})),
    )
    .await;
    added.assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(
        audited(&h, "tenant.client_id.add").await,
        [json!({"client_id": "alpha-tablet"})]
    );
    send(
        "DELETE",
        "/admin/v1/tenants/alpha/client-ids/alpha-tablet",
        None,
    )
    .await
    .assert_status(poem::http::StatusCode::NO_CONTENT);
    assert_eq!(audited(&h, "tenant.client_id.remove").await.len(), 1);
    let secret = "a-new-management-secret-0123456789";
    send(
        "PUT",
        "/admin/v1/tenants/alpha/provider-secret",
        Some(json!({"secret": secret})),
    )
    .await
    .assert_status(poem::http::StatusCode::NO_CONTENT);
    let rotated = audited(&h, "tenant.provider_secret.rotate").await;
    assert_eq!(rotated.len(), 1);
    assert!(rotated[0]["key_id"].is_string(), "{rotated:?}");
    assert!(!rotated[0].to_string().contains(secret));

    // A key whose tenants do not fit its role: refused, nothing minted, nothing audited.
    let keys_before = h.store.list_api_keys().await.unwrap().len();
    let refused = send(
        "POST",
        "/admin/v1/keys",
        Some(json!({"role": "tenant-editor", "tenants": [], "label": "nobody"})),
    )
    .await;
    refused.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.0.into_body().into_json().await.unwrap();
    assert_eq!(problem["type"], "urn:passgate:problem:invalid-scope");
    assert_eq!(h.store.list_api_keys().await.unwrap().len(), keys_before);
    assert!(audited(&h, "key.create").await.is_empty());

    // A key cannot revoke itself: refused, and it still works.
    let own = h
        .store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.label == "ops")
        .unwrap();
    let own_revoke = send("DELETE", &format!("/admin/v1/keys/{}", own.id.0), None).await;
    let problem: Value = own_revoke.0.into_body().into_json().await.unwrap();
    assert_eq!(
        problem["type"],
        "urn:passgate:problem:cannot-revoke-own-key"
    );
    assert!(audited(&h, "key.revoke").await.is_empty());
    send("DELETE", "/admin/v1/tenants/alpha", None)
        .await
        .assert_status(poem::http::StatusCode::NO_CONTENT);
    assert_eq!(audited(&h, "tenant.delete").await.len(), 1);
    let alpha = passgate_tenant::TenantId::parse("alpha").unwrap();
    assert!(h.store.tenant(&alpha).await.unwrap().is_none());
}
