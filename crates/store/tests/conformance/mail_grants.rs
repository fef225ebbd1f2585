//! Conformance case for a tenant's mail grants (sender domains, test recipients). Run by the
//! `conformance!` macro in `conformance.rs` against every backend.

use super::*;

pub(super) async fn mail_grants_are_per_tenant_and_kind_and_go_with_the_tenant(store: &Store) {
    let a = tenant(store, "acme").await;
    let b = tenant(store, "bank").await;
    let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    store
        .set_mail_grants(
            &a,
            MailGrant::SenderDomain,
            &list(&["shop.acme.example", "acme.example", "acme.example"]),
            t0(),
        )
        .await
        .unwrap();
    store
        .set_mail_grants(
            &a,
            MailGrant::TestRecipient,
            &list(&["po@acme.example"]),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .mail_grants(&a, MailGrant::SenderDomain)
            .await
            .unwrap(),
        list(&["acme.example", "shop.acme.example"])
    );
    assert_eq!(
        store
            .mail_grants(&a, MailGrant::TestRecipient)
            .await
            .unwrap(),
        list(&["po@acme.example"])
    );
    // Tenant B sees none of A's grants.
    assert!(
        store
            .mail_grants(&b, MailGrant::SenderDomain)
            .await
            .unwrap()
            .is_empty()
    );
    // Replacing drops what is not listed; adding keeps what is there.
    store
        .set_mail_grants(&a, MailGrant::SenderDomain, &list(&["acme.example"]), t0())
        .await
        .unwrap();
    store
        .add_mail_grants(
            &a,
            MailGrant::SenderDomain,
            &list(&["acme.example", "mail.acme.example"]),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .mail_grants(&a, MailGrant::SenderDomain)
            .await
            .unwrap(),
        list(&["acme.example", "mail.acme.example"])
    );
    store
        .set_mail_grants(&a, MailGrant::TestRecipient, &[], t0())
        .await
        .unwrap();
    assert!(
        store
            .mail_grants(&a, MailGrant::TestRecipient)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .set_mail_grants(
                &tid("nobody"),
                MailGrant::SenderDomain,
                &list(&["x.example"]),
                t0()
            )
            .await,
        Err(StoreError::UnknownTenant(_))
    ));
    // Deleting a tenant deletes its grants (a new tenant of that id starts with none).
    assert!(store.delete_tenant(&a).await.unwrap());
    let a = tenant(store, "acme").await;
    assert!(
        store
            .mail_grants(&a, MailGrant::SenderDomain)
            .await
            .unwrap()
            .is_empty()
    );
}
