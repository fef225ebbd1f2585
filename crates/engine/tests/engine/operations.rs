//! Operations: secrets at rest and in logs, audit events per step, the worker loops, the
//! outbox's dead letters, and Janrain under concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::common::*;
use chrono::TimeDelta;
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

/// What must never be readable in the database's bytes: the provider secret, link tokens,
/// mail text, and every email address (the known user's and an unknown one's).
const NEVER_AT_REST: [&str; 6] = [
    "sim-secret",
    "/reset/confirm?token=",
    "Reset your",
    "ada@example.com",
    "nobody@example.com",
    "jan@example.com",
];

fn assert_nothing_in_clear(bytes: &[u8], when: &str) {
    let db = String::from_utf8_lossy(bytes);
    for plain in NEVER_AT_REST {
        assert!(
            !db.contains(plain),
            "{when}: the database holds {plain:?} in clear"
        );
    }
}

/// The SQLite files (database, WAL, shared memory) of `h`, as bytes.
fn sqlite_bytes(h: &Harness) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(h.dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

/// Runs the life of a link reset for the known user and an unknown one: queued (mail held
/// because SMTP is down), then sent, then completed (history, audit, consumed token).
async fn whole_reset_scanned(h: &Harness, scan: impl AsyncFn(&Harness) -> Vec<u8>) {
    h.sink.set_mode(Mode::Down);
    h.request("ada@example.com").await;
    h.request("nobody@example.com").await;
    h.engine.run_jobs_once().await.unwrap();
    h.engine.run_outbox_once().await.unwrap();
    assert_nothing_in_clear(&scan(h).await, "mail queued");
    h.sink.set_mode(Mode::Accept);
    h.advance(TimeDelta::minutes(5));
    h.drain().await;
    let token = h.last_token();
    h.complete_link(&token, PASSWORD).await.unwrap();
    h.drain().await;
    assert_nothing_in_clear(&scan(h).await, "reset completed");
}

#[tokio::test]
async fn i53_bodies_secrets_and_every_email_are_sealed_at_rest() {
    let h = Harness::new("hosted", "link", "en").await;
    whole_reset_scanned(&h, async |h| sqlite_bytes(h)).await;
    // Code mode keeps two rows per request (flow and code): sealed as well.
    let h = Harness::new("hosted", "code", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    assert_nothing_in_clear(&sqlite_bytes(&h), "code mode");
}

#[tokio::test]
async fn i53_nothing_in_clear_in_a_postgres_dump() {
    let Some(h) = Harness::postgres("hosted", "link").await else {
        return;
    };
    let url = std::env::var("PASSGATE_TEST_POSTGRES_URL").unwrap();
    let schema = h.pg_schema.clone().unwrap();
    let dump = async |_: &Harness| {
        let out = std::process::Command::new("pg_dump")
            .args(["--data-only", "--schema", &schema, &url])
            .output();
        match out {
            Ok(out) if out.status.success() => {
                assert!(!out.stdout.is_empty());
                out.stdout
            }
            Ok(out) => panic!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr)),
            Err(err) => panic!("pg_dump not runnable: {err}"),
        }
    };
    whole_reset_scanned(&h, dump).await;
}

#[tokio::test]
async fn worker_loops_deliver_and_stop_on_shutdown() {
    let h = Harness::new("hosted", "link", "en").await;
    let (stop, workers) = spawn_workers(&h);
    h.request("ada@example.com").await;
    let mails = tokio::time::timeout(Duration::from_secs(20), h.sink.wait_for(1))
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    stop_workers(stop, workers, Duration::from_secs(10)).await;
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

/// Two Janrain tenants on one Janrain app (as when one brand runs two Passgate tenants).
async fn two_janrain_tenants() -> Harness {
    Harness::build(
        &[
            tenant_yaml("acme", "janrain", "link", "en", ""),
            tenant_yaml("beta", "janrain", "link", "en", ""),
        ],
        |_| {},
    )
    .await
}

fn janrain(client: &str, code: &str) -> Credential {
    Credential::Janrain {
        client_id: client.into(),
        code: SecretString::from(code.to_owned()),
    }
}

/// Provider calls that redeem a code or set a password with one.
fn janrain_calls(h: &Harness) -> usize {
    h.sim
        .calls()
        .iter()
        .filter(|c| {
            c.path == "/janrain/oauth/token" || c.path == "/janrain/oauth/update_profile_native"
        })
        .count()
}

/// Fails the next profile update (the code is redeemed, its access token kept).
fn fail_profile_update(h: &Harness) {
    h.sim.add_fault(passgate_idp_sim::Fault {
        method: Some("POST".into()),
        path: Some("/janrain/oauth/update_profile_native".into()),
        times: None,
        // 510: "too many simultaneous calls", definitely not applied.
        kind: passgate_idp_sim::FaultKind::JanrainError { code: 510 },
    });
}

#[tokio::test]
async fn janrain_code_presented_through_another_tenant_is_refused() {
    let h = two_janrain_tenants().await;
    h.request("jan@example.com").await;
    h.drain().await;
    let code = h.sim.mailbox().last().unwrap().code.clone().unwrap();
    // acme redeems the code, but the profile update fails: the access token is kept.
    fail_profile_update(&h);
    let err = h
        .engine
        .complete_reset(h.complete_input(janrain("acme-ios", &code), PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, CompleteError::TryAgainLater), "{err:?}");
    h.sim.clear_faults();
    // The same code through beta's client id: refused before beta's rules or any call.
    let before = janrain_calls(&h);
    for password in [PASSWORD, "short"] {
        let err = h
            .engine
            .complete_reset(h.complete_input(janrain("beta-ios", &code), password))
            .await
            .unwrap_err();
        assert!(matches!(err, CompleteError::InvalidLink(_)), "{err:?}");
    }
    assert_eq!(janrain_calls(&h), before, "a provider call through beta");
    assert_eq!(h.sim.user("jan@example.com").unwrap().password_changes, 0);
    assert!(h.engine.view_janrain_code("beta-ios", &code).await.is_err());
    assert!(h.engine.view_janrain_code("acme-ios", &code).await.is_ok());
    // Its own tenant still completes with it.
    h.engine
        .complete_reset(h.complete_input(janrain("acme-ios", &code), PASSWORD))
        .await
        .unwrap();
    assert_eq!(h.sim.user("jan@example.com").unwrap().password_changes, 1);
}

#[tokio::test]
async fn janrain_code_state_is_shared_by_two_engines_on_one_database() {
    let h = Harness::new("janrain", "link", "en").await;
    let tenants = || acme_only("janrain", "link");
    let (one, two) = (h.engine_with(tenants()), h.engine_with(tenants()));
    h.request("jan@example.com").await;
    h.drain().await;
    let code = h.sim.mailbox().last().unwrap().code.clone().unwrap();
    // Replica one redeems it; the profile update fails.
    fail_profile_update(&h);
    let err = one
        .complete_reset(h.complete_input(janrain(&h.client, &code), PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, CompleteError::TryAgainLater), "{err:?}");
    h.sim.clear_faults();
    // Replica two finishes with the access token replica one stored: no second redemption.
    let redeemed = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.path == "/janrain/oauth/token")
        .count();
    two.complete_reset(h.complete_input(janrain(&h.client, &code), PASSWORD))
        .await
        .unwrap();
    let redeemed_after = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.path == "/janrain/oauth/token")
        .count();
    assert_eq!(redeemed_after, redeemed, "the code was redeemed twice");
    // Spent for both: neither calls the provider again.
    let before = janrain_calls(&h);
    for engine in [&one, &two] {
        let err = engine
            .complete_reset(h.complete_input(janrain(&h.client, &code), &format!("{PASSWORD}!")))
            .await
            .unwrap_err();
        assert!(matches!(err, CompleteError::InvalidLink(_)), "{err:?}");
        assert!(engine.view_janrain_code(&h.client, &code).await.is_err());
    }
    assert_eq!(
        janrain_calls(&h),
        before,
        "a spent code reached the provider"
    );
    assert_eq!(h.sim.user("jan@example.com").unwrap().password_changes, 1);
}
