//! One conformance suite for every backend: each test below runs against SQLite (a temp file)
//! and, when `PASSGATE_TEST_POSTGRES_URL` is set, against PostgreSQL in a fresh schema.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "conformance/bindings.rs"]
mod bindings;
mod common;
#[path = "conformance/console_sessions.rs"]
mod console_sessions;
#[path = "conformance/engine_rows.rs"]
mod engine_rows;
#[path = "conformance/mail_grants.rs"]
mod mail_grants;
#[path = "conformance/onboarding.rs"]
mod onboarding;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use passgate_store::*;
use passgate_tenant::{ClientId, TenantId};

use bindings::*;
use console_sessions::*;
use engine_rows::*;
use mail_grants::*;
use onboarding::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap()
}

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

fn cid(s: &str) -> ClientId {
    ClientId::parse(s).unwrap()
}

async fn tenant(store: &Store, id: &str) -> TenantId {
    let id = tid(id);
    store
        .create_tenant(
            NewTenant {
                id: id.clone(),
                display_name: format!("Tenant {id}"),
                status: TenantStatus::Active,
            },
            t0(),
        )
        .await
        .unwrap();
    id
}

fn yaml(id: &str, n: u32) -> NewConfigVersion {
    NewConfigVersion {
        yaml: format!("id: {id}\ndisplay_name: v{n}\n"),
        author: "test".into(),
        comment: None,
    }
}

fn token(tenant: &TenantId, raw: &str, expires_in: TimeDelta) -> NewResetToken {
    NewResetToken {
        hash: Sha256Digest::of(raw.as_bytes()),
        tenant_id: tenant.clone(),
        client_id: cid("app"),
        user_id: "auth0|1".into(),
        connection: Some("Username-Password-Authentication".into()),
        email: "ada@example.com".into(),
        last_password_reset: None,
        purpose: TokenPurpose::Link,
        locale: "en".into(),
        redirect_uri: None,
        created_at: t0(),
        expires_at: t0() + expires_in,
    }
}

fn blob() -> EncryptedBlob {
    EncryptedBlob {
        ciphertext: vec![1, 2, 3],
        nonce: vec![0; 12],
        key_id: "k1".into(),
    }
}

async fn migrations_applied_twice_are_a_no_op(store: &Store) {
    let before = store.applied_migrations().await.unwrap();
    assert!(!before.is_empty());
    let a = tenant(store, "acme").await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.applied_migrations().await.unwrap(), before);
    assert!(store.tenant(&a).await.unwrap().is_some(), "data survives");
}

async fn rows_of_tenant_a_are_invisible_from_tenant_b(store: &Store) {
    let a = tenant(store, "tenant-a").await;
    let b = tenant(store, "tenant-b").await;

    // Tokens.
    store
        .insert_token(token(&a, "secret-a", TimeDelta::minutes(30)))
        .await
        .unwrap();
    let hash = Sha256Digest::of(b"secret-a");
    assert!(store.find_token(&a, &hash).await.unwrap().is_some());
    assert!(store.find_token(&b, &hash).await.unwrap().is_none());
    assert!(matches!(
        store.consume_token(&b, &hash, t0()).await,
        Err(StoreError::Token(TokenRejection::Unknown))
    ));
    assert_eq!(
        store
            .invalidate_user_tokens(&b, &cid("app"), "auth0|1", t0())
            .await
            .unwrap(),
        0
    );
    assert!(
        store.consume_token(&a, &hash, t0()).await.is_ok(),
        "B's attempts left A's token intact"
    );

    // Password history.
    store
        .record_password(&a, "auth0|1", "$argon2id$a", 5, t0())
        .await
        .unwrap();
    assert_eq!(
        store.recent_hashes(&a, "auth0|1", 5).await.unwrap().len(),
        1
    );
    assert!(
        store
            .recent_hashes(&b, "auth0|1", 5)
            .await
            .unwrap()
            .is_empty()
    );

    // Audit.
    store
        .append_audit(NewAuditEvent {
            tenant_id: Some(a.clone()),
            actor: "key:pgk_ab".into(),
            action: "config.activate".into(),
            outcome: "ok".into(),
            request_id: Some("req-1".into()),
            client_id: None,
            details: serde_json::json!({"version": 1}),
            created_at: t0(),
        })
        .await
        .unwrap();
    assert_eq!(store.tenant_audit(&a, 10, None).await.unwrap().len(), 1);
    assert!(store.tenant_audit(&b, 10, None).await.unwrap().is_empty());
    assert_eq!(store.all_audit(10, None).await.unwrap().len(), 1);

    // Config versions.
    store
        .create_version(&a, yaml("tenant-a", 1), true, t0())
        .await
        .unwrap();
    assert!(store.versions(&b).await.unwrap().is_empty());
    assert!(store.version(&b, 1).await.unwrap().is_none());
    assert!(store.active_version(&b).await.unwrap().is_none());
    assert!(matches!(
        store.activate_version(&b, 1, t0()).await,
        Err(StoreError::UnknownVersion { .. })
    ));

    // Outbox and jobs.
    let mail = store
        .enqueue_mail(NewMail {
            tenant_id: a.clone(),
            message_id: "<m1@passgate>".into(),
            recipient: "ada@example.com".into(),
            body: blob(),
            created_at: t0(),
        })
        .await
        .unwrap();
    assert!(store.mail(&a, mail).await.unwrap().is_some());
    assert!(store.mail(&b, mail).await.unwrap().is_none());
    let job = store
        .enqueue_job(NewJob {
            tenant_id: a.clone(),
            client_id: cid("app"),
            kind: "reset-request".into(),
            payload: "{}".into(),
            run_after: t0(),
            created_at: t0(),
        })
        .await
        .unwrap();
    assert!(store.job(&a, job).await.unwrap().is_some());
    assert!(store.job(&b, job).await.unwrap().is_none());

    // Rate limits: the same key in two tenants counts separately.
    let bucket = |t: &TenantId| RateBucket {
        tenant_id: Some(t.clone()),
        key: "account:x".into(),
    };
    let window = TimeDelta::minutes(1);
    assert!(
        store
            .hit(&bucket(&a), window, 1, t0())
            .await
            .unwrap()
            .allowed
    );
    assert!(
        !store
            .hit(&bucket(&a), window, 1, t0())
            .await
            .unwrap()
            .allowed
    );
    assert!(
        store
            .hit(&bucket(&b), window, 1, t0())
            .await
            .unwrap()
            .allowed
    );
}

async fn concurrent_activations_leave_exactly_one_active(store: &Store) {
    let a = tenant(store, "acme").await;
    for n in 1..=8 {
        store
            .create_version(&a, yaml("acme", n), false, t0())
            .await
            .unwrap();
    }
    for round in 0..5 {
        let tasks: Vec<_> = (1..=8u32)
            .map(|v| {
                let store = store.clone();
                let a = a.clone();
                tokio::spawn(async move { store.activate_version(&a, v, t0()).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let active: Vec<u32> = store
            .versions(&a)
            .await
            .unwrap()
            .into_iter()
            .filter(|v| v.is_active)
            .map(|v| v.version)
            .collect();
        assert_eq!(active.len(), 1, "round {round}: active versions {active:?}");
        let served = store.active_version(&a).await.unwrap().unwrap();
        assert_eq!(served.info.version, active[0]);
    }
}

async fn conditional_writes_racing_on_one_version_let_exactly_one_win(store: &Store) {
    let a = tenant(store, "acme").await;
    store
        .create_version(&a, yaml("acme", 1), true, t0())
        .await
        .unwrap();
    // Eight editors read version 1 and publish at once: one wins, seven are told who did.
    let tasks: Vec<_> = (2..=9u32)
        .map(|n| {
            let store = store.clone();
            let a = a.clone();
            tokio::spawn(async move { store.publish_version(&a, yaml("acme", n), 1, t0()).await })
        })
        .collect();
    let mut won = Vec::new();
    let mut conflicts = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(info) => won.push(info.version),
            Err(StoreError::VersionConflict { active, .. }) => conflicts.push(active),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, [2], "exactly one write wins, as version 2");
    assert_eq!(
        conflicts, [2; 7],
        "the others learn that version 2 is active"
    );
    let versions = store.versions(&a).await.unwrap();
    assert_eq!(versions.len(), 2, "losers store nothing: {versions:?}");

    // Activation (rollback) is conditional the same way.
    let stale = store.activate_version_if(&a, 1, 1, t0()).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionConflict { active: 2, .. })
    ));
    store.activate_version_if(&a, 1, 2, t0()).await.unwrap();
    assert_eq!(
        store
            .active_version(&a)
            .await
            .unwrap()
            .unwrap()
            .info
            .version,
        1
    );
}

async fn duplicate_client_id_is_refused_across_tenants(store: &Store) {
    let a = tenant(store, "acme").await;
    let b = tenant(store, "globex").await;
    store
        .add_client_id(&a, &cid("shop-ios"), t0())
        .await
        .unwrap();
    match store.add_client_id(&b, &cid("shop-ios"), t0()).await {
        Err(StoreError::DuplicateClientId { client_id, owner }) => {
            assert_eq!(client_id, cid("shop-ios"));
            assert_eq!(owner, a);
        }
        other => panic!("expected DuplicateClientId, got {other:?}"),
    }
    assert!(matches!(
        store.add_client_id(&a, &cid("shop-ios"), t0()).await,
        Err(StoreError::DuplicateClientId { .. })
    ));
    assert_eq!(
        store.tenant_of(&cid("shop-ios")).await.unwrap(),
        Some(a.clone())
    );
    assert!(store.client_ids(&b).await.unwrap().is_empty());
    // Removing through the wrong tenant does nothing.
    assert!(!store.remove_client_id(&b, &cid("shop-ios")).await.unwrap());
    assert!(store.remove_client_id(&a, &cid("shop-ios")).await.unwrap());
    store
        .add_client_id(&b, &cid("shop-ios"), t0())
        .await
        .unwrap();
    assert!(matches!(
        store.add_client_id(&tid("nobody"), &cid("x"), t0()).await,
        Err(StoreError::UnknownTenant(_))
    ));
}

async fn twenty_concurrent_consumers_exactly_one_wins(store: &Store) {
    let a = tenant(store, "acme").await;
    store
        .insert_token(token(&a, "race", TimeDelta::minutes(30)))
        .await
        .unwrap();
    let hash = Sha256Digest::of(b"race");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let a = a.clone();
            tokio::spawn(async move { store.consume_token(&a, &hash, t0()).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(t) => {
                wins += 1;
                assert_eq!(t.consumed_at, Some(t0()));
                assert_eq!(t.user_id, "auth0|1");
            }
            Err(StoreError::Token(TokenRejection::AlreadyConsumed)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

async fn released_tokens_can_be_used_again(store: &Store) {
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bolt").await;
    store
        .insert_token(token(&a, "released", TimeDelta::minutes(30)))
        .await
        .unwrap();
    let hash = Sha256Digest::of(b"released");
    let consumed = store.consume_token(&a, &hash, t0()).await.unwrap();
    assert!(
        !store.release_token(&b, consumed.id).await.unwrap(),
        "another tenant cannot release it"
    );
    assert!(store.release_token(&a, consumed.id).await.unwrap());
    assert!(
        !store.release_token(&a, consumed.id).await.unwrap(),
        "only a consumed row is released"
    );
    store.consume_token(&a, &hash, t0()).await.unwrap();
}

async fn tokens_expire_and_are_superseded(store: &Store) {
    let a = tenant(store, "acme").await;
    store
        .insert_token(token(&a, "short", TimeDelta::minutes(1)))
        .await
        .unwrap();
    let hash = Sha256Digest::of(b"short");
    assert!(matches!(
        store
            .consume_token(&a, &hash, t0() + TimeDelta::minutes(1))
            .await,
        Err(StoreError::Token(TokenRejection::Expired))
    ));
    assert!(
        store
            .consume_token(&a, &hash, t0() + TimeDelta::seconds(59))
            .await
            .is_ok()
    );

    store
        .insert_token(token(&a, "old", TimeDelta::minutes(30)))
        .await
        .unwrap();
    assert_eq!(
        store
            .invalidate_user_tokens(&a, &cid("app"), "auth0|1", t0())
            .await
            .unwrap(),
        1,
        "only the unused token is invalidated"
    );
    assert!(matches!(
        store
            .consume_token(&a, &Sha256Digest::of(b"old"), t0())
            .await,
        Err(StoreError::Token(TokenRejection::Invalidated))
    ));

    let mut code = token(&a, "12345678", TimeDelta::minutes(10));
    code.purpose = TokenPurpose::Code;
    store.insert_token(code).await.unwrap();
    let code_hash = Sha256Digest::of(b"12345678");
    for expected in 1..=4 {
        assert_eq!(
            store
                .record_failed_attempt(&a, &code_hash, 5, t0())
                .await
                .unwrap(),
            expected
        );
    }
    assert!(
        store
            .find_token(&a, &code_hash)
            .await
            .unwrap()
            .unwrap()
            .invalidated_at
            .is_none()
    );
    assert_eq!(
        store
            .record_failed_attempt(&a, &code_hash, 5, t0())
            .await
            .unwrap(),
        5
    );
    assert!(matches!(
        store.consume_token(&a, &code_hash, t0()).await,
        Err(StoreError::Token(TokenRejection::Invalidated))
    ));
    let looked_up = store.lookup_token(&code_hash).await.unwrap().unwrap();
    assert_eq!(looked_up.tenant_id, a);
    assert_eq!(looked_up.purpose, TokenPurpose::Code);
    assert_eq!(
        store
            .purge_tokens(t0() + TimeDelta::hours(1))
            .await
            .unwrap(),
        3
    );
}

async fn concurrent_imports_claiming_one_client_id_name_the_winner(store: &Store) {
    for round in 0..4 {
        let shared = cid(&format!("shared-{round}-ios"));
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|side| {
                let store = store.clone();
                let item = TenantImport {
                    id: tid(&format!("{side}{round}")),
                    display_name: side.to_owned(),
                    client_ids: vec![shared.clone()],
                    yaml: format!("id: {side}{round}\n"),
                };
                tokio::spawn(async move { store.import_tenants(vec![item], "cli", t0()).await })
            })
            .collect();
        let mut wins = 0;
        let mut losers = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => wins += 1,
                Err(StoreError::DuplicateClientId { client_id, owner }) => {
                    assert_eq!(client_id, shared);
                    losers.push(owner);
                }
                Err(other) => panic!("round {round}: a plain {other:?} instead of the taken id"),
            }
        }
        assert_eq!((wins, losers.len()), (1, 1), "round {round}");
        assert_eq!(
            store.tenant_of(&shared).await.unwrap().as_ref(),
            losers.first()
        );
    }
}

async fn import_is_all_or_nothing_and_versions_only_on_change(store: &Store) {
    let item = |id: &str, clients: &[&str], n: u32| TenantImport {
        id: tid(id),
        display_name: format!("{id} v{n}"),
        client_ids: clients.iter().map(|c| cid(c)).collect(),
        yaml: format!("id: {id}\nrev: {n}\n"),
    };
    let first = store
        .import_tenants(
            vec![
                item("acme", &["acme-ios", "acme-android"], 1),
                item("globex", &["globex-web"], 1),
            ],
            "cli",
            t0(),
        )
        .await
        .unwrap();
    assert!(first.iter().all(|r| r.outcome == ImportOutcome::Created));

    let again = store
        .import_tenants(
            vec![
                item("acme", &["acme-ios", "acme-android"], 1),
                item("globex", &["globex-web"], 1),
            ],
            "cli",
            t0(),
        )
        .await
        .unwrap();
    assert!(
        again.iter().all(|r| r.outcome == ImportOutcome::Unchanged),
        "{again:?}"
    );

    let changed = store
        .import_tenants(vec![item("acme", &["acme-ios"], 2)], "cli", t0())
        .await
        .unwrap();
    assert_eq!(changed[0].outcome, ImportOutcome::Updated { version: 2 });
    assert_eq!(
        store.client_ids(&tid("acme")).await.unwrap(),
        vec![cid("acme-ios")]
    );
    assert_eq!(
        store
            .active_version(&tid("acme"))
            .await
            .unwrap()
            .unwrap()
            .yaml,
        "id: acme\nrev: 2\n"
    );

    // A client id owned by a tenant outside the import aborts everything.
    let before = store.list_tenants().await.unwrap();
    let refused = store
        .import_tenants(
            vec![
                item("initech", &["initech-app"], 1),
                item("acme", &["acme-ios", "globex-web"], 3),
            ],
            "cli",
            t0(),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::DuplicateClientId { .. })),
        "{refused:?}"
    );
    assert_eq!(
        store.list_tenants().await.unwrap(),
        before,
        "nothing changed"
    );
    assert!(store.tenant(&tid("initech")).await.unwrap().is_none());

    // A client id may move between two tenants of one import.
    let moved = store
        .import_tenants(
            vec![
                item("globex", &[], 2),
                item("acme", &["acme-ios", "globex-web"], 3),
            ],
            "cli",
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!(
        store.tenant_of(&cid("globex-web")).await.unwrap(),
        Some(tid("acme"))
    );
}

async fn routes_load_tenant_status_and_active_config(store: &Store) {
    let a = tenant(store, "acme").await;
    store
        .add_client_id(&a, &cid("acme-ios"), t0())
        .await
        .unwrap();
    let route = store.load_route(&cid("acme-ios")).await.unwrap().unwrap();
    assert_eq!(route.tenant_id, a);
    assert_eq!(route.status, TenantStatus::Active);
    assert!(route.active.is_none());
    store
        .create_version(&a, yaml("acme", 1), true, t0())
        .await
        .unwrap();
    store
        .set_status(&a, TenantStatus::Disabled, t0())
        .await
        .unwrap();
    let route = store.load_route(&cid("acme-ios")).await.unwrap().unwrap();
    assert_eq!(route.status, TenantStatus::Disabled);
    assert_eq!(route.active.unwrap().info.version, 1);
    assert!(store.load_route(&cid("nobody")).await.unwrap().is_none());
}

async fn writes_run_change_hooks(store: &Store) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    store.on_tenant_change(Arc::new(move |t: &TenantId| {
        sink.lock().unwrap().push(t.clone())
    }));
    let a = tenant(store, "acme").await;
    store
        .create_version(&a, yaml("acme", 1), true, t0())
        .await
        .unwrap();
    store
        .add_client_id(&a, &cid("acme-ios"), t0())
        .await
        .unwrap();
    store
        .set_status(&a, TenantStatus::Disabled, t0())
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 4);
    assert!(seen.lock().unwrap().iter().all(|t| *t == a));
}

async fn tenants_keep_provider_binding_and_secret(store: &Store) {
    let a = tenant(store, "acme").await;
    assert!(matches!(
        store
            .create_tenant(
                NewTenant {
                    id: a.clone(),
                    display_name: "again".into(),
                    status: TenantStatus::Active
                },
                t0()
            )
            .await,
        Err(StoreError::TenantExists(_))
    ));
    let binding = ProviderBinding::Auth0(Auth0Binding {
        domain: "acme.eu.auth0.com".into(),
        canonical_domain: None,
        custom_domain: None,
        connection: "Username-Password-Authentication".into(),
        client_id: "mgmt".into(),
        app_client_id: None,
        new_universal_login: false,
        audience: None,
    });
    store.set_provider(&a, binding.clone(), t0()).await.unwrap();
    store
        .set_provider_secret(&a, Some(blob()), t0())
        .await
        .unwrap();
    let row = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!(row.provider, binding);
    assert!(row.has_provider_secret);
    assert_eq!(store.provider_secret(&a).await.unwrap(), Some(blob()));
    assert!(store.delete_tenant(&a).await.unwrap());
    assert!(store.tenant(&a).await.unwrap().is_none());
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::common::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = crate::common::TestDb::postgres().await else { return };
                    super::$name(&db.store).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_applied_twice_are_a_no_op,
    rows_of_tenant_a_are_invisible_from_tenant_b,
    concurrent_activations_leave_exactly_one_active,
    conditional_writes_racing_on_one_version_let_exactly_one_win,
    duplicate_client_id_is_refused_across_tenants,
    twenty_concurrent_consumers_exactly_one_wins,
    tokens_expire_and_are_superseded,
    released_tokens_can_be_used_again,
    import_is_all_or_nothing_and_versions_only_on_change,
    concurrent_imports_claiming_one_client_id_name_the_winner,
    routes_load_tenant_status_and_active_config,
    writes_run_change_hooks,
    tenants_keep_provider_binding_and_secret,
    rate_limits_count_atomically_per_window,
    an_admission_counts_its_buckets_and_queues_its_job_together,
    admissions_committed_together_count_as_one_after_another,
    a_group_of_hundreds_counts_exactly_across_statements,
    outbox_and_jobs_are_claimed_once_per_lease,
    a_finished_job_writes_everything_with_its_done_mark_or_nothing,
    the_later_of_two_jobs_committed_together_supersedes_the_earlier,
    history_keeps_the_newest_hashes,
    api_keys_are_found_by_hash_and_revocable,
    mail_grants_are_per_tenant_and_kind_and_go_with_the_tenant,
    bindings_round_trip_and_rebinding_leaves_nothing_behind,
    a_move_round_trips_and_ending_it_clears_its_secret,
    a_tenant_update_applies_every_part_together_or_none,
    onboarding_stores_everything_or_nothing,
    concurrent_onboardings_of_one_id_let_exactly_one_win,
    console_sessions_round_trip_and_end,
    revoking_a_key_ends_its_console_sessions_only,
    idle_and_expired_console_sessions_are_purged,
    oidc_identities_follow_the_claims_and_stay_revoked,
);
