//! The retry loop under a paused tokio clock: waits are exact and instant.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::TimeZone;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::*;
use crate::FixedClock;

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        max_rate_limit_wait: Duration::from_secs(30),
        jitter: false,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn response(status: u16, headers: &[(&'static str, String)]) -> RawResponse {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    RawResponse {
        status,
        headers: map,
        body: String::new(),
    }
}

/// Runs the loop over scripted outcomes; returns the result, attempts and virtual time spent.
async fn run(
    safety: Safety,
    policy: &RetryPolicy,
    script: Vec<Result<RawResponse, SendError>>,
) -> (Result<RawResponse, IdpError>, u32, Duration) {
    let attempts = AtomicU32::new(0);
    let script = std::sync::Mutex::new(script.into_iter());
    let start = Instant::now();
    let result = run_with_retries(
        "test",
        safety,
        policy,
        &FixedClock::new(now()),
        no_throttle,
        || {
            attempts.fetch_add(1, Ordering::SeqCst);
            let next = script.lock().unwrap().next().expect("script too short");
            async move { next }
        },
    )
    .await;
    (result, attempts.load(Ordering::SeqCst), start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn server_errors_on_reads_back_off_exponentially_then_succeed() {
    let (result, attempts, elapsed) = run(
        Safety::Idempotent,
        &policy(),
        vec![
            Ok(response(503, &[])),
            Ok(response(502, &[])),
            Ok(response(200, &[])),
        ],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(attempts, 3);
    assert_eq!(elapsed, Duration::from_millis(100 + 200));
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded() {
    let script = (0..4).map(|_| Ok(response(500, &[]))).collect();
    let (result, attempts, elapsed) = run(Safety::Idempotent, &policy(), script).await;
    assert!(matches!(result, Err(IdpError::Server { status: 500 })));
    assert_eq!(attempts, 4);
    assert_eq!(elapsed, Duration::from_millis(100 + 200 + 400));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_until_the_reset_time() {
    let reset = (now().timestamp() + 7).to_string();
    let (result, attempts, elapsed) = run(
        Safety::NonIdempotent,
        &policy(),
        vec![
            Ok(response(429, &[("x-ratelimit-reset", reset)])),
            Ok(response(200, &[])),
        ],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(attempts, 2);
    assert_eq!(elapsed, Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn retry_after_wins_over_the_reset_header() {
    let reset = (now().timestamp() + 20).to_string();
    let (result, _, elapsed) = run(
        Safety::Idempotent,
        &policy(),
        vec![
            Ok(response(
                429,
                &[("x-ratelimit-reset", reset), ("retry-after", "3".into())],
            )),
            Ok(response(200, &[])),
        ],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(elapsed, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_reset_too_far_away_is_returned_at_once() {
    let reset_secs = now().timestamp() + 3600;
    let (result, attempts, elapsed) = run(
        Safety::Idempotent,
        &policy(),
        vec![Ok(response(
            429,
            &[("x-ratelimit-reset", reset_secs.to_string())],
        ))],
    )
    .await;
    match result {
        Err(IdpError::RateLimited { reset_at, .. }) => {
            assert_eq!(reset_at.unwrap().timestamp(), reset_secs);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(attempts, 1);
    assert_eq!(elapsed, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_timed_out_is_ambiguous_and_not_retried() {
    let (result, attempts, _) = run(
        Safety::NonIdempotent,
        &policy(),
        vec![Err(SendError::Timeout)],
    )
    .await;
    assert!(result.unwrap_err().is_ambiguous());
    assert_eq!(attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_write_answered_with_5xx_is_ambiguous_and_not_retried() {
    let (result, attempts, _) = run(
        Safety::NonIdempotent,
        &policy(),
        vec![Ok(response(500, &[]))],
    )
    .await;
    assert!(result.unwrap_err().is_ambiguous());
    assert_eq!(attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_never_connected_is_retried() {
    let (result, attempts, elapsed) = run(
        Safety::NonIdempotent,
        &policy(),
        vec![
            Err(SendError::NotSent("refused".into())),
            Ok(response(200, &[])),
        ],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(attempts, 2);
    assert_eq!(elapsed, Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn timeouts_on_reads_are_retried_then_reported() {
    let script = (0..4).map(|_| Err(SendError::Timeout)).collect();
    let (result, attempts, _) = run(Safety::Idempotent, &policy(), script).await;
    let err = result.unwrap_err();
    assert!(matches!(err, IdpError::Timeout));
    assert!(err.is_retryable());
    assert_eq!(attempts, 4);
}

#[test]
fn jittered_backoff_stays_between_half_and_the_full_delay() {
    let policy = RetryPolicy {
        jitter: true,
        ..policy()
    };
    for retry in 0..6 {
        let full = Duration::from_millis(100 * 2u64.pow(retry)).min(Duration::from_secs(1));
        for _ in 0..50 {
            let d = policy.backoff(retry);
            assert!(
                d >= full / 2 && d <= full,
                "retry {retry}: {d:?} vs {full:?}"
            );
        }
    }
}
