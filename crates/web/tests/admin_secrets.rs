//! Secrets never come back: a provider secret (set at creation, on update, by rotation, or
//! sent in the wrong place) and an API key (after the one response that mints it) appear in
//! no later response, no log line at TRACE, and no database byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "web/admin_common/mod.rs"]
mod admin_common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use admin_common::{bearer, harness};
use passgate_store::TenantRepo;
use passgate_tenant::TenantId;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const SECRETS: [&str; 3] = [
    "FIXTURE-create-secret-7c1d9e",
    "FIXTURE-update-secret-4b2a8f",
    "FIXTURE-rotate-secret-9e3c1a",
];

#[tokio::test]
async fn provider_secrets_and_api_keys_never_appear_after_creation() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness().await;
    let mut responses: Vec<String> = Vec::new();
    let record = |resp: poem::test::TestResponse| async move {
        let head = format!("{:?}", resp.0.headers());
        let body = resp.0.into_body().into_string().await.unwrap();
        format!("{head}\n{body}")
    };
    let provider = |secret: &str| {
        json!({
            "kind": "auth0",
            "domain": "gamma.eu.auth0.com",
            "management_client_id": "m2m-client",
            "management_client_secret": secret,
            "connection": "Username-Password-Authentication",
            "mode": "hosted"
        })
    };
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/admin/v1/tenants".into(),
            Some(
                json!({"id": "gamma", "display_name": "Gamma", "client_ids": ["gamma-ios"], "provider": provider(SECRETS[0])}),
            ),
        ),
        (
            "PATCH",
            "/admin/v1/tenants/gamma".into(),
            Some(json!({"provider": provider(SECRETS[1])})),
        ),
        (
            "PUT",
            "/admin/v1/tenants/gamma/provider-secret".into(),
            Some(json!({"secret": SECRETS[2]})),
        ),
        // Secrets sent where they do not belong are refused without being echoed.
        (
            "PUT",
            "/admin/v1/tenants/gamma/provider-secret".into(),
            Some(json!({"secret": SECRETS[2], "extra": SECRETS[2]})),
        ),
        (
            "PUT",
            "/admin/v1/tenants/gamma/provider-secret".into(),
            Some(json!({"secret": [SECRETS[2]]})),
        ),
        (
            "PATCH",
            "/admin/v1/tenants/gamma".into(),
            Some(
                json!({"provider": {"kind": "auth0", "domain": "169.254.169.254", "management_client_id": "m", "management_client_secret": SECRETS[2]}}),
            ),
        ),
        ("GET", "/admin/v1/tenants/gamma".into(), None),
        ("GET", "/admin/v1/tenants".into(), None),
        ("GET", "/admin/v1/audit".into(), None),
        ("GET", "/admin/v1/tenants/gamma/audit".into(), None),
    ];
    for (method, path, body) in calls {
        let mut req = h
            .client
            .request(method.parse().unwrap(), path.clone())
            .header("Authorization", bearer(&h.admin));
        if let Some(body) = &body {
            req = req.body_json(body);
        }
        let resp = req.send().await;
        assert!(resp.0.status().as_u16() < 500, "{method} {path}");
        responses.push(record(resp).await);
    }

    // The tenant shows that a secret is stored, never the secret.
    let view: Value = serde_json::from_str(responses[6].split_once('\n').unwrap().1).unwrap();
    assert_eq!(view["provider"]["has_secret"], true);
    assert_eq!(
        view["provider"]["domain"], "gamma.eu.auth0.com",
        "the refused domain changed nothing"
    );

    // The rotated secret is what the engine opens.
    let tenant = TenantId::parse("gamma").unwrap();
    let blob = h.store.provider_secret(&tenant).await.unwrap().unwrap();
    assert_eq!(blob.key_id, "test");

    // A key minted through the API appears once.
    let resp = h
        .client
        .post("/admin/v1/keys")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({"role": "tenant-editor", "tenants": ["gamma"], "label": "gamma po"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let created: Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("pgk_") && new_key.len() >= 40);
    let log_mark = logs.0.lock().unwrap().len();
    for path in [
        "/admin/v1/keys",
        "/admin/v1/audit",
        "/admin/v1/tenants/gamma/config",
    ] {
        let resp = h
            .client
            .get(path)
            .header("Authorization", bearer(&new_key))
            .send()
            .await;
        responses.push(record(resp).await);
        let resp = h
            .client
            .get(path)
            .header("Authorization", bearer(&h.admin))
            .send()
            .await;
        responses.push(record(resp).await);
    }
    // The admin's key, too, never comes back.
    for (i, response) in responses.iter().enumerate() {
        for secret in
            SECRETS
                .iter()
                .copied()
                .chain([new_key.as_str(), h.admin.as_str(), h.editor.as_str()])
        {
            assert!(!response.contains(secret), "response {i} contains {secret}");
        }
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("admin change"),
        "the capture works: {logged}"
    );
    for secret in SECRETS {
        assert!(
            !logged.contains(secret),
            "a log line contains a provider secret"
        );
    }
    assert!(
        !logged[log_mark..].contains(&new_key),
        "a log line contains the API key"
    );
    assert!(
        !logged.contains(&h.admin),
        "a log line contains the admin key"
    );

    // Nothing in the database file is a plaintext secret or key.
    drop(h.store.clone());
    let mut bytes = std::fs::read(&h.db_path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let wal = h.db_path.with_file_name(format!("admin.db{suffix}"));
        if let Ok(more) = std::fs::read(wal) {
            bytes.extend(more);
        }
    }
    let dump = String::from_utf8_lossy(&bytes);
    for secret in SECRETS
        .iter()
        .copied()
        .chain([new_key.as_str(), h.admin.as_str()])
    {
        assert!(
            !dump.contains(secret),
            "the database holds {secret} in plaintext"
        );
    }
}
