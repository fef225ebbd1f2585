//! The outbox with the fakes of `crate::fakes`: sealed rows, sent once, retried with backoff
//! after a transient failure, dead-lettered after a permanent one.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeDelta;

use super::*;
use crate::{
    audit::Audit,
    clock::FixedClock,
    mail::{MailTransport, OutgoingMail, SendError},
    secret_token::TokenHasher,
};

/// A transport that answers from a script, then accepts.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<Vec<SendError>>,
    sent: Mutex<Vec<OutgoingMail>>,
}

#[async_trait]
impl MailTransport for Scripted {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let next = {
            let mut answers = self.answers.lock().unwrap();
            (!answers.is_empty()).then(|| answers.remove(0))
        };
        match next {
            Some(error) => Err(error),
            None => {
                self.sent.lock().unwrap().push(mail.clone());
                Ok(())
            }
        }
    }
}

async fn outbox(transport: Arc<Scripted>) -> (Outbox, FixedClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::fakes::store(&dir).await;
    let clock = FixedClock::new(chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap());
    let yaml = crate::fakes::tenant_yaml("hosted", "link");
    let tenant = passgate_tenant::parse_tenant_yaml("acme.yaml", &yaml).unwrap();
    crate::fakes::import(&store, &tenant, &yaml, clock.now()).await;
    let keyring = Keyring::generate("test").unwrap();
    let hasher = TokenHasher::new(keyring.derive("token-hash"));
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let audit = Audit::new(store.clone(), Arc::clone(&clock_dyn));
    let settings = EngineSettings::new("https://reset.example.test");
    let outbox = Outbox::new(
        store, keyring, hasher, clock_dyn, transport, audit, &settings,
    );
    (outbox, clock, dir)
}

async fn queue_one(outbox: &Outbox) {
    let tenant = passgate_tenant::parse_tenant_yaml(
        "acme.yaml",
        &crate::fakes::tenant_yaml("hosted", "link"),
    )
    .unwrap();
    let mail = RenderedMail {
        subject: "Reset".into(),
        html: "<p>hi</p>".into(),
        text: "hi".into(),
    };
    outbox
        .queue(&tenant.config, "ada@example.com", mail)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_queued_mail_is_sent_once_from_the_tenants_sender() {
    let transport = Arc::new(Scripted::default());
    let (outbox, _clock, _dir) = outbox(Arc::clone(&transport)).await;
    queue_one(&outbox).await;
    assert_eq!(outbox.run_round().await.unwrap().sent, 1);
    assert!(outbox.run_round().await.unwrap().is_idle());
    let sent = transport.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, "Acme <no-reply@acme.example>");
    assert!(sent[0].message_id.ends_with(&format!(
        "@{}",
        EngineSettings::new("https://reset.example.test").message_id_domain
    )));
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_its_backoff_and_a_permanent_one_is_dead() {
    let transport = Arc::new(Scripted::default());
    transport
        .answers
        .lock()
        .unwrap()
        .push(SendError::Transient("421 busy".into()));
    let (outbox, clock, _dir) = outbox(Arc::clone(&transport)).await;
    queue_one(&outbox).await;
    assert_eq!(outbox.run_round().await.unwrap().retried, 1);
    assert!(outbox.run_round().await.unwrap().is_idle(), "not due yet");
    clock.advance(TimeDelta::minutes(5));
    assert_eq!(outbox.run_round().await.unwrap().sent, 1);

    transport
        .answers
        .lock()
        .unwrap()
        .push(SendError::Permanent("550 no such user".into()));
    queue_one(&outbox).await;
    assert_eq!(outbox.run_round().await.unwrap().dead, 1);
    clock.advance(TimeDelta::hours(1));
    assert!(
        outbox.run_round().await.unwrap().is_idle(),
        "a dead letter is not retried"
    );
}
