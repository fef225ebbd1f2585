//! Conformance cases for console sessions. Run by the `conformance!` macro in
//! `conformance.rs` against every backend.

use super::*;

async fn editor_key(store: &Store, raw: &str) -> ApiKeyId {
    let a = tenant(store, &format!("t-{}", raw.replace('_', "-"))).await;
    store
        .create_api_key(NewApiKey {
            key_hash: Sha256Digest::of(raw.as_bytes()),
            prefix: "pgk_sess".into(),
            role: ApiRole::TenantEditor,
            tenants: vec![a],
            label: "po".into(),
            owner_email_hash: None,
            created_at: t0(),
        })
        .await
        .unwrap()
}

fn session(raw: &str, key: ApiKeyId, lasts: TimeDelta) -> NewConsoleSession {
    NewConsoleSession {
        id: Sha256Digest::of(raw.as_bytes()),
        key_id: key,
        csrf_hash: Sha256Digest::of(format!("csrf-{raw}").as_bytes()),
        created_at: t0(),
        expires_at: t0() + lasts,
    }
}

pub(super) async fn console_sessions_round_trip_and_end(store: &Store) {
    let key = editor_key(store, "pgk_one").await;
    let new = session("cookie-1", key, TimeDelta::hours(12));
    store.create_console_session(new.clone()).await.unwrap();
    let got = store.console_session(&new.id).await.unwrap().unwrap();
    assert_eq!(
        (got.key_id, got.csrf_hash, got.last_seen_at, got.expires_at),
        (key, new.csrf_hash, t0(), new.expires_at)
    );
    assert_eq!(store.api_key(key).await.unwrap().unwrap().id, key);
    store
        .touch_console_session(&new.id, t0() + TimeDelta::minutes(5))
        .await
        .unwrap();
    let got = store.console_session(&new.id).await.unwrap().unwrap();
    assert_eq!(got.last_seen_at, t0() + TimeDelta::minutes(5));
    assert!(
        store
            .console_session(&Sha256Digest::of(b"cookie-2"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.end_console_session(&new.id).await.unwrap());
    assert!(!store.end_console_session(&new.id).await.unwrap());
    assert!(store.console_session(&new.id).await.unwrap().is_none());
}

pub(super) async fn revoking_a_key_ends_its_console_sessions_only(store: &Store) {
    let key = editor_key(store, "pgk_a").await;
    let other = editor_key(store, "pgk_b").await;
    let mine = session("cookie-a", key, TimeDelta::hours(12));
    let theirs = session("cookie-b", other, TimeDelta::hours(12));
    store.create_console_session(mine.clone()).await.unwrap();
    store.create_console_session(theirs.clone()).await.unwrap();
    assert!(store.revoke_api_key(key, t0()).await.unwrap());
    assert!(store.console_session(&mine.id).await.unwrap().is_none());
    assert!(store.console_session(&theirs.id).await.unwrap().is_some());
}

pub(super) async fn idle_and_expired_console_sessions_are_purged(store: &Store) {
    let key = editor_key(store, "pgk_p").await;
    let short = session("cookie-short", key, TimeDelta::hours(1));
    let idle = session("cookie-idle", key, TimeDelta::hours(12));
    let live = session("cookie-live", key, TimeDelta::hours(12));
    for s in [&short, &idle, &live] {
        store.create_console_session(s.clone()).await.unwrap();
    }
    let now = t0() + TimeDelta::hours(2);
    store.touch_console_session(&live.id, now).await.unwrap();
    let purged = store
        .purge_console_sessions(now - TimeDelta::minutes(30), now)
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert!(store.console_session(&live.id).await.unwrap().is_some());
    assert!(store.console_session(&idle.id).await.unwrap().is_none());
    assert!(store.console_session(&short.id).await.unwrap().is_none());
}

pub(super) async fn oidc_identities_follow_the_claims_and_stay_revoked(store: &Store) {
    let a = tenant(store, "t-oidc-a").await;
    let b = tenant(store, "t-oidc-b").await;
    let identity = |role: ApiRole, tenants: Vec<TenantId>, label: &str| OidcIdentity {
        subject: "https://id.example.com 00u-ada".into(),
        unusable_key_hash: Sha256Digest::of(label.as_bytes()),
        prefix: "oidc".into(),
        role,
        tenants,
        label: label.into(),
        now: t0(),
    };
    let first = store
        .sign_in_oidc_identity(identity(ApiRole::TenantEditor, vec![a.clone()], "Ada"))
        .await
        .unwrap();
    assert_eq!(
        first.oidc_subject.as_deref(),
        Some("https://id.example.com 00u-ada")
    );
    assert_eq!(first.tenants, vec![a.clone()]);
    // The next sign-in brings role, scope and label up to date on the same row.
    let again = store
        .sign_in_oidc_identity(identity(
            ApiRole::TenantEditor,
            vec![b.clone()],
            "Ada Lovelace",
        ))
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(
        (again.tenants.clone(), again.label.as_str()),
        (vec![b.clone()], "Ada Lovelace")
    );
    assert_eq!(store.list_api_keys().await.unwrap().len(), 1);
    // Revoked in Passgate stays revoked, whatever the provider says later.
    assert!(store.revoke_api_key(first.id, t0()).await.unwrap());
    let after = store
        .sign_in_oidc_identity(identity(ApiRole::PlatformAdmin, Vec::new(), "Ada"))
        .await
        .unwrap();
    assert!(after.revoked_at.is_some());
    assert_eq!(after.role, ApiRole::TenantEditor);
}
