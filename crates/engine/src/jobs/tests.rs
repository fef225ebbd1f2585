//! The job worker with the fakes of `crate::fakes`: outages are retried with backoff through
//! the guarded provider, a full circuit puts jobs back without a provider call, and a job
//! whose link would arrive dead is dropped.

use chrono::TimeDelta;
use passgate_idp::IdpError;

use crate::{
    error::EngineError,
    fakes::{Kit, request_input},
};

async fn submit(kit: &Kit, email: &str) {
    kit.engine
        .request_reset(request_input(email))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_provider_outage_is_retried_after_a_backoff_and_then_issues() {
    let kit = Kit::new("hosted", "link").await;
    submit(&kit, "ada@example.com").await;
    kit.provider
        .fail_next("find_user_by_email", || IdpError::Timeout);
    let round = kit.engine.run_jobs_once().await.unwrap();
    assert_eq!((round.done, round.retried), (0, 1));
    // Not due before its backoff.
    assert!(kit.engine.run_jobs_once().await.unwrap().is_idle());
    kit.clock.advance(TimeDelta::minutes(1));
    assert_eq!(kit.engine.run_jobs_once().await.unwrap().done, 1);
    assert_eq!(kit.provider.calls("find_user_by_email"), 2);
}

#[tokio::test]
async fn an_open_circuit_puts_the_job_back_without_calling_the_provider() {
    let kit = Kit::with("hosted", "link", |s| s.breaker_threshold = 1).await;
    submit(&kit, "ada@example.com").await;
    submit(&kit, "ada@example.com").await;
    kit.provider
        .fail_next("find_user_by_email", || IdpError::Timeout);
    kit.provider
        .fail_next("find_user_by_email", || IdpError::Timeout);
    let round = kit.engine.run_jobs_once().await.unwrap();
    assert_eq!(round.retried, 2);
    // The first outage opened the circuit; the other job of the batch may have gone out
    // before it did, but nothing goes out now.
    let calls = kit.provider.calls("find_user_by_email");
    kit.clock.advance(TimeDelta::seconds(10));
    let round = kit.engine.run_jobs_once().await.unwrap();
    assert_eq!(round.done, 0);
    assert_eq!(kit.provider.calls("find_user_by_email"), calls);
    assert!(EngineError::CircuitOpen("acme".into()).is_retryable());
}

#[tokio::test]
async fn a_job_claimed_after_its_token_lifetime_issues_nothing() {
    let kit = Kit::new("hosted", "link").await;
    submit(&kit, "ada@example.com").await;
    kit.clock.advance(TimeDelta::minutes(11));
    assert_eq!(kit.engine.run_jobs_once().await.unwrap().done, 1);
    assert_eq!(kit.provider.calls("find_user_by_email"), 0);
    kit.engine.run_outbox_once().await.unwrap();
    assert!(kit.mailbox.messages().is_empty());
}
