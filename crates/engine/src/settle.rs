//! Recording the outcome of work that already happened outside the database (a mail the relay
//! accepted, a job whose token and mail are queued). If that write fails because the database
//! is briefly unreachable, giving up would let the item's lease expire and the work run a
//! second time — a second mail. So the write is retried until it lands or the lease is nearly
//! over (after which another worker may claim the item anyway).

use std::future::Future;
use std::time::Duration;

use passgate_store::StoreError;
use tokio::time::Instant;

/// First pause between two attempts; doubled up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// Longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The deadline for settling an item claimed at `claimed_at` under `lease`: three quarters of
/// the lease, leaving a margin before another worker may claim it.
pub(crate) fn deadline(claimed_at: Instant, lease: Duration) -> Instant {
    claimed_at + lease.mul_f64(0.75)
}

/// Runs `write` until it succeeds, retrying with a growing pause while the next attempt can
/// still start before `deadline`; returns the last error otherwise.
pub(crate) async fn settle<F, Fut>(deadline: Instant, mut write: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut pause = FIRST_PAUSE;
    loop {
        match write().await {
            Ok(()) => return Ok(()),
            Err(err) if Instant::now() + pause < deadline => {
                tracing::warn!(error = %err, "cannot record a finished item yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn outage() -> StoreError {
        StoreError::Database(sea_orm::DbErr::Custom("connection refused".into()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_fails_during_a_short_outage_lands_when_the_database_is_back() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let result = settle(deadline(started, Duration::from_secs(60)), || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { if n < 5 { Err(outage()) } else { Ok(()) } }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_still_failing_near_the_end_of_the_lease_gives_up_with_the_error() {
        let calls = AtomicU32::new(0);
        let started = Instant::now();
        let result = settle(deadline(started, Duration::from_secs(8)), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(outage()) }
        })
        .await;
        assert!(matches!(result, Err(StoreError::Database(_))));
        // Pauses 0.25 + 0.5 + 1 + 2 + 2 = 5.75 s fit in 6 s; the next would not.
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        assert!(Instant::now() - started < Duration::from_secs(6));
    }
}
