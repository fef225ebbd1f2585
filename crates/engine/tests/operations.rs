//! Operations: secrets at rest and in logs, audit events per step, the worker loops, the
//! outbox's dead letters, and Janrain under concurrency.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::TimeDelta;
use common::*;
use passgate_engine::{CompleteError, Credential};
use passgate_smtp_sink::Mode;
use passgate_store::AuditRepo;
use secrecy::SecretString;

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn j56_logs_at_trace_hold_no_password_token_secret_or_email() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.request("nobody@example.com").await;
    h.request("ada@example.com\r\nbcc:evil@example.com").await;
    let mut forged = h.input("nobody@example.com");
    forged.request_id = "req\r\n[ERROR] forged line".into();
    h.engine.request_reset(forged).await.unwrap();
    h.drain().await;
    let token = h.last_token();
    let _ = h.complete_link(&token, "short").await;
    let _ = h
        .complete_link(&token, "an old password of hers 1815")
        .await;
    h.complete_link(&token, PASSWORD).await.unwrap();
    let _ = h.complete_link(&token, PASSWORD).await;
    h.drain().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("passgate::security"),
        "security events were logged"
    );
    for secret in [
        PASSWORD,
        "an old password of hers 1815",
        token.as_str(),
        "sim-secret",
        "ada@example.com",
        "nobody@example.com",
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}

#[tokio::test]
async fn j57_every_step_leaves_an_audit_event_with_tenant_and_request_id() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.request("nobody@example.com").await;
    h.drain().await;
    let token = h.last_token();
    h.complete_link(&token, PASSWORD).await.unwrap();
    let _ = h.complete_link(&token, PASSWORD).await;
    let events = h.store.all_audit(100, None).await.unwrap();
    let seen: Vec<(String, String)> = events
        .iter()
        .rev()
        .map(|e| (e.event.action.clone(), e.event.outcome.clone()))
        .collect();
    for expected in [
        ("reset.issue", "mailed"),
        ("reset.issue", "unknown_user"),
        ("mail.delivery", "sent"),
        ("reset.complete", "ok"),
        ("reset.token_refused", "used"),
    ] {
        assert!(
            seen.iter().any(|(a, o)| a == expected.0 && o == expected.1),
            "missing {expected:?} in {seen:?}"
        );
    }
    let tenant_steps = ["reset.issue", "reset.complete", "reset.token_refused"];
    for event in events
        .iter()
        .filter(|e| tenant_steps.contains(&e.event.action.as_str()))
    {
        assert_eq!(event.event.tenant_id.as_ref(), Some(&h.tenant));
        assert!(event.event.request_id.is_some());
    }
}

#[tokio::test]
async fn i53_bodies_secrets_and_submitted_emails_are_sealed_at_rest() {
    let h = Harness::new("hosted", "link", "en").await;
    // Queue with SMTP down, so the sealed body is still in the table.
    h.sink.set_mode(Mode::Down);
    h.request("ada@example.com").await;
    h.request("nobody@example.com").await;
    h.engine.run_jobs_once().await.unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(h.dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let db = String::from_utf8_lossy(&bytes);
    for plain in [
        "sim-secret",
        "/reset/confirm?token=",
        "nobody@example.com",
        "Reset your",
    ] {
        assert!(!db.contains(plain), "the database holds {plain:?} in clear");
    }
}

#[tokio::test]
async fn worker_loops_deliver_and_stop_on_shutdown() {
    let h = Harness::new("hosted", "link", "en").await;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn({
        let engine = h.engine.clone();
        let shutdown = shutdown.clone();
        async move { engine.run_job_worker(shutdown).await }
    });
    let outbox = tokio::spawn({
        let engine = h.engine.clone();
        async move { engine.run_outbox_worker(shutdown).await }
    });
    h.request("ada@example.com").await;
    let mails = tokio::time::timeout(Duration::from_secs(20), h.sink.wait_for(1))
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), jobs)
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), outbox)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn outbox_dead_letters_after_its_bound() {
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.outbox.max_attempts = 3;
    })
    .await;
    h.sink.set_mode(Mode::RejectTransient);
    h.request("ada@example.com").await;
    for _ in 0..6 {
        h.drain().await;
        h.advance(TimeDelta::minutes(10));
    }
    let events = h.store.all_audit(100, None).await.unwrap();
    let outcomes: Vec<_> = events
        .iter()
        .filter(|e| e.event.action == "mail.delivery")
        .map(|e| e.event.outcome.as_str())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "retry").count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "dead").count(),
        1,
        "{outcomes:?}"
    );
    h.sink.set_mode(Mode::Accept);
    h.drain().await;
    assert!(h.mails().is_empty(), "a dead letter is not retried");
}

#[tokio::test]
async fn janrain_fifty_concurrent_completions_one_success() {
    let h = Harness::new("janrain", "link", "en").await;
    h.request("jan@example.com").await;
    h.drain().await;
    let code = h.sim.mailbox().last().unwrap().code.clone().unwrap();
    let attempts = (0..50).map(|i| {
        let engine = h.engine.clone();
        let input = h.complete_input(
            Credential::Janrain {
                client_id: h.client.clone(),
                code: SecretString::from(code.clone()),
            },
            &format!("{PASSWORD} {i}"),
        );
        tokio::spawn(async move { engine.complete_reset(input).await })
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let invalid = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(CompleteError::InvalidLink(_)))))
        .count();
    assert_eq!((ok, invalid), (1, 49));
    assert_eq!(h.sim.user("jan@example.com").unwrap().password_changes, 1);
}

#[tokio::test]
async fn i55_expired_tokens_are_purged_after_the_retention() {
    use passgate_store::TokenRepo;
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let digest = h.engine_digest(&token);
    h.advance(TimeDelta::days(1));
    h.engine.purge_expired(TimeDelta::days(7)).await.unwrap();
    assert!(
        h.store.lookup_token(&digest).await.unwrap().is_some(),
        "kept within retention"
    );
    h.advance(TimeDelta::days(7));
    h.engine.purge_expired(TimeDelta::days(7)).await.unwrap();
    assert!(
        h.store.lookup_token(&digest).await.unwrap().is_none(),
        "gone after it"
    );
}
