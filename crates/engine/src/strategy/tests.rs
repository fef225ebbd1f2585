//! Issuing, per mode, with the fakes of `crate::fakes`: what each strategy stores and mails,
//! and what it answers for an unknown or blocked account.

use passgate_store::{FinishedJob, JobRepo as _, NewJob, TokenRepo as _};

use super::Issued;
use crate::{
    clock::Clock as _,
    email_address::SubmittedEmail,
    fakes::Kit,
    secret_token::FlowId,
    staged_writes::StagedWrites,
    strategy::{self, IssueRequest},
};

async fn issue(kit: &Kit, email: &str, flow: &FlowId) -> Issued {
    let tenant = kit.tenant().await;
    let client = tenant.config.client_ids[0].clone();
    let email = SubmittedEmail::parse(email).unwrap();
    let locale = tenant.config.locales.default.clone();
    let writes = StagedWrites::default();
    let request = IssueRequest {
        tenant: &tenant,
        client: &client,
        flow_id: flow,
        email: &email,
        locale: &locale,
        redirect_uri: None,
        request_id: "req-1",
        found_at: &std::sync::OnceLock::new(),
        writes: &writes,
    };
    let issued = strategy::for_tenant(&tenant.config)
        .issue(&kit.engine.issuer(), &request)
        .await
        .unwrap();
    // What the strategy staged lands as the worker would land it: with a job's "done" mark.
    let now = kit.clock.now();
    let job = kit
        .store
        .enqueue_job(NewJob {
            tenant_id: tenant.config.id.clone(),
            client_id: client.clone(),
            kind: "reset-request".into(),
            payload: "{}".into(),
            run_after: now,
            created_at: now,
        })
        .await
        .unwrap();
    kit.store
        .finish_jobs(
            vec![FinishedJob {
                id: job,
                writes: writes.into_writes(),
            }],
            now,
        )
        .await
        .unwrap();
    issued
}

#[tokio::test]
async fn hosted_link_stores_the_token_before_it_queues_the_mail() {
    let kit = Kit::new("hosted", "link").await;
    let flow = FlowId::generate().unwrap();
    assert_eq!(issue(&kit, "ada@example.com", &flow).await, Issued::Mailed);
    kit.engine.run_outbox_once().await.unwrap();
    let token = kit.last_token();
    let key = kit
        .engine
        .tokens
        .link_key(&crate::LinkToken::parse(&token).unwrap());
    let row = kit.store.lookup_token(&key).await.unwrap().expect("a row");
    assert_eq!(row.user_id, "auth0|ada");
    assert!(!row.email.contains("ada@"), "the address is sealed at rest");
}

#[tokio::test]
async fn hosted_modes_give_unknown_and_blocked_accounts_nothing_to_redeem() {
    for delivery in ["link", "code"] {
        let kit = Kit::new("hosted", delivery).await;
        for (email, issued) in [
            ("nobody@example.com", Issued::UnknownUser),
            ("bob@example.com", Issued::Blocked),
        ] {
            let flow = FlowId::generate().unwrap();
            assert_eq!(
                issue(&kit, email, &flow).await,
                issued,
                "{delivery} {email}"
            );
            // Code mode still stores a flow row (bound to no user), so the code page answers
            // alike; link mode stores nothing.
            let flow_row = kit
                .store
                .lookup_token(&kit.engine.tokens.flow_key(&flow))
                .await
                .unwrap();
            assert_eq!(flow_row.is_some(), delivery == "code", "{delivery} {email}");
            if let Some(row) = flow_row {
                assert!(row.user_id.starts_with("unbound:"), "{}", row.user_id);
            }
        }
        kit.engine.run_outbox_once().await.unwrap();
        assert!(kit.mailbox.messages().is_empty(), "{delivery}");
    }
}

#[tokio::test]
async fn provider_mailing_modes_ask_the_provider_and_queue_nothing() {
    for (mode, issued_for_unknown) in [
        ("auth0_email", Issued::UnknownUser),
        ("janrain", Issued::UnknownUser),
    ] {
        let kit = Kit::new(mode, "link").await;
        let flow = FlowId::generate().unwrap();
        assert_eq!(
            issue(&kit, "ada@example.com", &flow).await,
            Issued::ProviderMailed
        );
        assert_eq!(
            issue(&kit, "nobody@example.com", &flow).await,
            issued_for_unknown
        );
        kit.engine.run_outbox_once().await.unwrap();
        assert!(kit.mailbox.messages().is_empty(), "{mode}");
    }
}

#[tokio::test]
async fn auth0_ticket_mails_the_providers_ticket_in_passgates_mail() {
    let kit = Kit::new("auth0_ticket", "link").await;
    let flow = FlowId::generate().unwrap();
    assert_eq!(issue(&kit, "ada@example.com", &flow).await, Issued::Mailed);
    kit.engine.run_outbox_once().await.unwrap();
    assert_eq!(kit.last_mail(), "https://idp.test/ticket/auth0|ada");
}
