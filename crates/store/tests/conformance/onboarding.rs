//! Conformance cases for tenant onboarding (`TenantRepo::onboard_tenant`, the admin API's
//! tenant creation): everything in one transaction, nothing left behind on refusal. Run by
//! the `conformance!` macro in `conformance.rs` against every backend.

use super::*;

fn onboarding(id: &str, clients: &[&str]) -> TenantOnboarding {
    TenantOnboarding {
        id: tid(id),
        display_name: format!("Tenant {id}"),
        client_ids: clients.iter().map(|c| cid(c)).collect(),
        yaml: format!("id: {id}\ndisplay_name: Tenant {id}\n"),
        author: "key:pgk_abc (ops)".into(),
        provider: Some(ProviderBinding::Auth0(Auth0Binding::new(
            format!("{id}.eu.auth0.com"),
            "Username-Password-Authentication",
            "mgmt",
        ))),
        provider_secret: Some(blob()),
        sender_domains: vec![format!("{id}.example")],
    }
}

/// Nothing of tenant `id` exists: no row, no version, no client id, no grant.
async fn assert_absent(store: &Store, id: &str, clients: &[&str]) {
    let id = tid(id);
    assert!(store.tenant(&id).await.unwrap().is_none());
    assert!(store.active_version(&id).await.unwrap().is_none());
    assert!(store.versions(&id).await.unwrap().is_empty());
    assert!(store.client_ids(&id).await.unwrap().is_empty());
    assert!(
        store
            .mail_grants(&id, MailGrant::SenderDomain)
            .await
            .unwrap()
            .is_empty()
    );
    for client in clients {
        assert_ne!(
            store.tenant_of(&cid(client)).await.unwrap(),
            Some(id.clone())
        );
    }
}

pub(super) async fn onboarding_stores_everything_or_nothing(store: &Store) {
    store
        .onboard_tenant(onboarding("acme", &["acme-ios", "acme-web"]), t0())
        .await
        .unwrap();
    let a = tid("acme");
    let row = store.tenant(&a).await.unwrap().unwrap();
    assert_eq!(row.display_name, "Tenant acme");
    assert_eq!(row.status, TenantStatus::Active);
    assert!(
        matches!(&row.provider, ProviderBinding::Auth0(b) if b.domain == "acme.eu.auth0.com"),
        "{:?}",
        row.provider
    );
    assert!(row.has_provider_secret);
    assert_eq!(store.provider_secret(&a).await.unwrap(), Some(blob()));
    let active = store.active_version(&a).await.unwrap().unwrap();
    assert_eq!(active.info.version, 1);
    assert_eq!(active.info.author, "key:pgk_abc (ops)");
    assert_eq!(active.yaml, "id: acme\ndisplay_name: Tenant acme\n");
    assert_eq!(
        store.client_ids(&a).await.unwrap(),
        vec![cid("acme-ios"), cid("acme-web")]
    );
    assert_eq!(
        store
            .mail_grants(&a, MailGrant::SenderDomain)
            .await
            .unwrap(),
        vec!["acme.example".to_owned()]
    );

    // A client id another tenant owns: refused, and the new tenant left no trace (its row
    // and version were written before the client id in the same transaction).
    let refused = store
        .onboard_tenant(onboarding("bank", &["bank-ios", "acme-web"]), t0())
        .await;
    assert!(
        matches!(&refused, Err(StoreError::DuplicateClientId { client_id, owner })
            if client_id.as_str() == "acme-web" && owner.as_str() == "acme"),
        "{refused:?}"
    );
    assert_absent(store, "bank", &["bank-ios"]).await;

    // A taken tenant id: refused, the existing tenant unchanged.
    let again = store
        .onboard_tenant(onboarding("acme", &["acme-android"]), t0())
        .await;
    assert!(
        matches!(again, Err(StoreError::TenantExists(_))),
        "{again:?}"
    );
    assert_eq!(store.versions(&a).await.unwrap().len(), 1);
    assert_eq!(store.tenant_of(&cid("acme-android")).await.unwrap(), None);
}

pub(super) async fn concurrent_onboardings_of_one_id_let_exactly_one_win(store: &Store) {
    let mut tasks = Vec::new();
    for n in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let client = format!("race-{n}");
            store
                .onboard_tenant(onboarding("race", &[client.as_str()]), t0())
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::TenantExists(id)) => assert_eq!(id.as_str(), "race"),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.versions(&tid("race")).await.unwrap().len(), 1);
    assert_eq!(store.client_ids(&tid("race")).await.unwrap().len(), 1);
}
