//! Shared set-up of the admin API tests: a temp SQLite store, an attached router, the
//! repository's themes, a fixed clock, an in-memory mailbox, two tenants (`alpha`, `beta`)
//! and one key per role.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use passgate_engine::mail::DevMailbox;
use passgate_engine::{FixedClock, Keyring};
use passgate_routing::{Router, RouterOptions};
use passgate_store::{ApiKeyId, ApiKeyRepo, ApiRole, Store};
use passgate_tenant::TenantId;
use passgate_theme::Themes;
use passgate_web::admin::auth::create_key;
use passgate_web::admin::{AdminParts, AdminSettings, AdminState, routes};
use poem::endpoint::BoxEndpoint;
use poem::test::TestClient;
use poem::{EndpointExt, Route};
use secrecy::ExposeSecret;
use serde_json::json;

/// The repository's `themes/` (override with `PASSGATE_THEMES_DIR`).
pub fn themes_dir() -> PathBuf {
    std::env::var_os("PASSGATE_THEMES_DIR")
        .map_or_else(passgate_testkit::paths::themes_dir, PathBuf::from)
}

pub fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

pub struct Harness {
    pub client: TestClient<BoxEndpoint<'static>>,
    pub state: AdminState,
    pub store: Store,
    pub router: Router,
    pub mailbox: DevMailbox,
    pub clock: FixedClock,
    pub admin: String,
    pub editor: String,
    pub other_editor: String,
    pub revoked: String,
    pub revoked_id: ApiKeyId,
    pub db_path: PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn key(
    store: &Store,
    role: ApiRole,
    tenants: &[&str],
    label: &str,
) -> (ApiKeyId, String) {
    let tenants = tenants
        .iter()
        .map(|t| TenantId::parse(t).unwrap())
        .collect();
    let (id, minted) = create_key(store, role, tenants, label.into(), start_time())
        .await
        .unwrap();
    (id, minted.secret.expose_secret().to_owned())
}

pub async fn harness_with(settings: AdminSettings) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("admin.db");
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", db_path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let router = Router::attach(&store, &RouterOptions::default());
    let themes = Arc::new(Themes::load(&themes_dir()).unwrap());
    let clock = FixedClock::new(start_time());
    let mailbox = DevMailbox::new();
    let state = AdminState::new(AdminParts {
        store: store.clone(),
        router: Some(router.clone()),
        keyring: Keyring::generate("test").unwrap(),
        themes,
        clock: Arc::new(clock.clone()),
        mailer: Arc::new(mailbox.clone()),
        settings,
    });
    let app = Route::new().nest("/admin", routes(state.clone())).boxed();
    let client = TestClient::new(app);
    let (_, admin) = key(&store, ApiRole::PlatformAdmin, &[], "ops").await;
    let (_, editor) = key(&store, ApiRole::TenantEditor, &["alpha"], "alpha po").await;
    let (_, other_editor) = key(&store, ApiRole::TenantEditor, &["beta"], "beta po").await;
    let (revoked_id, revoked) = key(&store, ApiRole::PlatformAdmin, &[], "old").await;
    store
        .revoke_api_key(revoked_id, start_time())
        .await
        .unwrap();
    let harness = Harness {
        client,
        state,
        store,
        router,
        mailbox,
        clock,
        admin,
        editor,
        other_editor,
        revoked,
        revoked_id,
        db_path,
        _dir: dir,
    };
    for id in ["alpha", "beta"] {
        let resp = harness
            .client
            .post("/admin/v1/tenants")
            .header("Authorization", format!("Bearer {}", harness.admin))
            .body_json(&json!({
                "id": id,
                "display_name": format!("{id} app"),
                "client_ids": [format!("{id}-ios")],
            }))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::CREATED);
    }
    harness
}

pub async fn harness() -> Harness {
    harness_with(AdminSettings::default()).await
}

pub fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}
