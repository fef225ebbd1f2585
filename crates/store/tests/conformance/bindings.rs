//! Provider bindings: every field of each provider's binding survives a round trip, a
//! rebinding leaves nothing of the previous one, and rows written before migration
//! `m20261201_000040_auth0_binding` read as the binding they meant.

use passgate_migrations::MigratorTrait;
use passgate_store::*;
use sea_orm::ConnectionTrait;

use super::{t0, tenant, tid};
use crate::common::TestDb;

fn auth0_full() -> ProviderBinding {
    ProviderBinding::Auth0(Auth0Binding {
        domain: "acme.eu.auth0.com".into(),
        canonical_domain: Some("acme.eu.auth0.com".into()),
        custom_domain: Some("login.acme.com".into()),
        connection: "Username-Password-Authentication".into(),
        client_id: "mgmt".into(),
        app_client_id: Some("app-client".into()),
        new_universal_login: true,
        audience: Some("https://acme.eu.auth0.com/api/v2/".into()),
    })
}

fn janrain_full() -> ProviderBinding {
    ProviderBinding::Janrain(JanrainBinding {
        domain: "acme.us.janraincapture.com".into(),
        client_id: "capture-client".into(),
        flow: "standard".into(),
        flow_version: Some("20190618143040022299".into()),
        password_recover_url: Some(
            "https://reset.example.test/reset/janrain?client_id=acme".into(),
        ),
    })
}

pub(crate) async fn bindings_round_trip_and_rebinding_leaves_nothing_behind(store: &Store) {
    let a = tenant(store, "acme").await;
    assert_eq!(
        store.tenant(&a).await.unwrap().unwrap().provider,
        ProviderBinding::Unbound
    );
    for binding in [auth0_full(), janrain_full(), ProviderBinding::Unbound] {
        store.set_provider(&a, binding.clone(), t0()).await.unwrap();
        assert_eq!(store.tenant(&a).await.unwrap().unwrap().provider, binding);
    }
    // Auth0 with every option, then a bare one: no option of the first survives.
    store.set_provider(&a, auth0_full(), t0()).await.unwrap();
    let bare = ProviderBinding::Auth0(Auth0Binding::new("acme.auth0.com", "db", "mgmt"));
    store.set_provider(&a, bare.clone(), t0()).await.unwrap();
    let listed = store.list_tenants().await.unwrap();
    assert_eq!(listed[0].tenant.provider, bare);
}

async fn old_rows_read_as_the_binding_they_meant(db: TestDb) {
    let conn = db.store.connection();
    passgate_migrations::Migrator::up(conn, Some(3))
        .await
        .unwrap();
    // (id, kind, domain, connection, mode, client id) as the first release wrote them.
    let rows = [
        // A complete Auth0 binding, with its (now deprecated) mode.
        "'auth0-old', 'auth0', 'acme.eu.auth0.com', 'db', 'auth0_ticket', 'mgmt'",
        // A Janrain binding that never named a flow: the client used `standard`.
        "'janrain-old', 'janrain', 'acme.us.janraincapture.com', NULL, 'janrain', 'cap'",
        // Half-filled (no connection): it could never serve, so it becomes unbound.
        "'half-old', 'auth0', 'acme.eu.auth0.com', NULL, 'hosted', 'mgmt'",
    ];
    for values in rows {
        let sql = format!(
            "INSERT INTO tenants (id, provider_kind, provider_domain, provider_connection, \
             provider_mode, provider_client_id, display_name, status, created_at, updated_at) \
             VALUES ({values}, 'Old', 'active', '2026-11-26T00:00:00+00:00', \
             '2026-11-26T00:00:00+00:00')"
        );
        conn.execute_unprepared(&sql).await.unwrap();
    }
    db.store.migrate().await.unwrap();
    let store = &db.store;
    let old = store.tenant(&tid("auth0-old")).await.unwrap().unwrap();
    assert_eq!(
        old.provider,
        ProviderBinding::Auth0(Auth0Binding {
            domain: "acme.eu.auth0.com".into(),
            canonical_domain: None,
            custom_domain: None,
            connection: "db".into(),
            client_id: "mgmt".into(),
            app_client_id: None,
            new_universal_login: false,
            audience: None,
        })
    );
    assert_eq!(old.legacy_mode.as_deref(), Some("auth0_ticket"));
    let janrain = store.tenant(&tid("janrain-old")).await.unwrap().unwrap();
    assert!(
        matches!(&janrain.provider, ProviderBinding::Janrain(b) if b.flow == "standard"),
        "{:?}",
        janrain.provider
    );
    let half = store.tenant(&tid("half-old")).await.unwrap().unwrap();
    assert_eq!(half.provider, ProviderBinding::Unbound);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_old_rows_read_as_the_binding_they_meant() {
    old_rows_read_as_the_binding_they_meant(TestDb::sqlite_unmigrated().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_old_rows_read_as_the_binding_they_meant() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    old_rows_read_as_the_binding_they_meant(db).await;
}

pub(crate) async fn a_tenant_update_applies_every_part_together_or_none(store: &Store) {
    let a = tenant(store, "acme").await;
    let before = store.tenant(&a).await.unwrap().unwrap();
    // An unknown tenant: an error, and nothing of the change lands anywhere.
    let change = TenantChange {
        display_name: Some("Acme Renamed".into()),
        provider: Some(janrain_full()),
        provider_secret: Some(super::blob()),
    };
    assert_eq!(
        change.parts(),
        ["display_name", "provider", "provider_secret"]
    );
    assert!(matches!(
        store
            .update_tenant(&tid("nobody"), change.clone(), t0())
            .await,
        Err(StoreError::UnknownTenant(_))
    ));
    assert_eq!(store.tenant(&a).await.unwrap().unwrap(), before);
    // Every part at once.
    store.update_tenant(&a, change, t0()).await.unwrap();
    let after = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!(after.display_name, "Acme Renamed");
    assert_eq!(after.provider, janrain_full());
    assert_eq!(
        store.provider_secret(&a).await.unwrap(),
        Some(super::blob())
    );
    // Parts left out stay as they are.
    let rename_only = TenantChange {
        display_name: Some("Acme".into()),
        ..TenantChange::default()
    };
    assert_eq!(rename_only.parts(), ["display_name"]);
    store.update_tenant(&a, rename_only, t0()).await.unwrap();
    let renamed = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!(renamed.display_name, "Acme");
    assert_eq!(renamed.provider, janrain_full());
    assert!(renamed.has_provider_secret);
}

/// Issue 19: a move's source, policy and sealed secret survive a round trip, change the
/// tenant's version (so provider clients are rebuilt), and ending it clears every column.
pub(crate) async fn a_move_round_trips_and_ending_it_clears_its_secret(store: &Store) {
    let a = tenant(store, "acme").await;
    store.set_provider(&a, auth0_full(), t0()).await.unwrap();
    assert_eq!(store.tenant(&a).await.unwrap().unwrap().moving_from, None);
    let source = MoveSource {
        domain: "acme.us.janraincapture.com".into(),
        client_id: "capture-owner".into(),
        policy: MovePolicy {
            reset_source_too: true,
            migrate_on_reset: true,
            dry_run: false,
        },
    };
    let secret = EncryptedBlob {
        ciphertext: vec![1, 2, 3],
        nonce: vec![4; 12],
        key_id: "k1".into(),
    };
    let before = store.tenant(&a).await.unwrap().unwrap().updated_at;
    let later = t0() + chrono::TimeDelta::seconds(5);
    store
        .set_move(&a, Some((source.clone(), secret.clone())), later)
        .await
        .unwrap();
    let moving = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!(moving.moving_from, Some(source));
    assert_eq!(moving.provider, auth0_full(), "the target binding stays");
    assert!(
        moving.updated_at > before,
        "a move is a new binding version"
    );
    assert_eq!(store.move_secret(&a).await.unwrap(), Some(secret));
    store.set_move(&a, None, later).await.unwrap();
    assert_eq!(store.tenant(&a).await.unwrap().unwrap().moving_from, None);
    assert_eq!(store.move_secret(&a).await.unwrap(), None);
    let unknown = tid("nobody");
    assert!(matches!(
        store.set_move(&unknown, None, later).await,
        Err(StoreError::UnknownTenant(_))
    ));
}
