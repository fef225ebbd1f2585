//! Pacing one provider tenant: the `x-ratelimit-limit/remaining/reset` headers of every
//! answer tell how much capacity is left and when it comes back, so callers wait for it
//! instead of firing and eating 429s. Interactive calls (a user waiting on the completion's
//! PATCH) may spend the last unit; background calls (look-ups, tickets, mails) leave it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::{Clock, IdpError};

/// Who is waiting for a provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A user is waiting on this call (the completion's password change).
    Interactive,
    /// A queued job or a look-up: yields the last unit of capacity to interactive calls.
    Background,
}

/// Counters of one paced provider tenant (read by metrics and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaceStats {
    /// Requests sent to the provider.
    pub calls: u64,
    /// Answers that were HTTP 429.
    pub rate_limited: u64,
    /// Times a call waited for capacity before being sent.
    pub waits: u64,
    /// Total time spent waiting, in milliseconds.
    pub waited_ms: u64,
}

#[derive(Debug, Default)]
struct Window {
    /// `x-ratelimit-remaining` minus what was sent since.
    remaining: Option<u64>,
    /// `x-ratelimit-limit`.
    limit: Option<u64>,
    /// `x-ratelimit-reset`.
    reset_at: Option<DateTime<Utc>>,
    /// While the window is unknown, one call goes first to learn it; the others wait.
    probe_since: Option<Instant>,
    /// Interactive callers waiting for capacity: background calls yield to them.
    interactive_waiting: usize,
    /// Calls sent and not answered yet: an answer's `remaining` does not count them.
    in_flight: u64,
}

impl Window {
    /// Forgets a finished window, keeping who is waiting.
    fn reset(&mut self) {
        self.remaining = None;
        self.limit = None;
        self.reset_at = None;
        self.probe_since = None;
    }
}

/// A probe whose answer never came stops blocking others after this (a failed call clears
/// it at once; this only bounds a hung one).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest single pause before the window is looked at again.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The limiter of one provider tenant (one per client, shared by its transport clones).
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    window: Mutex<Window>,
    calls: AtomicU64,
    rate_limited: AtomicU64,
    waits: AtomicU64,
    waited_ms: AtomicU64,
}

/// Shortest pause while capacity is out (a reset already in the past, clock skew).
const MIN_PAUSE: Duration = Duration::from_millis(50);

impl Pacer {
    /// Waits until a call of `priority` may be sent and counts it against the window. A
    /// wait longer than `max_wait` is refused as [`IdpError::RateLimited`] (the caller
    /// requeues) instead of holding a request.
    pub async fn acquire(
        &self,
        priority: Priority,
        clock: &dyn Clock,
        max_wait: Duration,
    ) -> Result<(), IdpError> {
        let mut waited = Duration::ZERO;
        let mut registered = false;
        loop {
            let pause = {
                let mut window = self.window.lock().await;
                let now = clock.now();
                if window.reset_at.is_some_and(|reset| reset <= now) {
                    // The window is over: capacity is back (the next answer says how much).
                    window.reset();
                }
                // Background calls leave the last unit of a roomy window to interactive
                // ones, and never overtake an interactive caller that is waiting.
                let reserve = match priority {
                    Priority::Interactive => 0,
                    Priority::Background if window.limit.unwrap_or(0) >= 10 => 1,
                    Priority::Background => 0,
                };
                let yield_to_user =
                    priority == Priority::Background && window.interactive_waiting > 0;
                let pause = match window.remaining {
                    Some(remaining) if remaining <= reserve || yield_to_user => {
                        let until = window
                            .reset_at
                            .and_then(|reset| (reset - now).to_std().ok())
                            .unwrap_or(MIN_PAUSE);
                        Some(until.clamp(MIN_PAUSE, MAX_PAUSE))
                    }
                    Some(remaining) => {
                        window.remaining = Some(remaining - 1);
                        None
                    }
                    None if window
                        .probe_since
                        .is_some_and(|since| since.elapsed() < PROBE_TIMEOUT)
                        || yield_to_user =>
                    {
                        Some(MIN_PAUSE)
                    }
                    None => {
                        window.probe_since = Some(Instant::now());
                        None
                    }
                };
                if priority == Priority::Interactive {
                    match (pause.is_some(), registered) {
                        (true, false) => window.interactive_waiting += 1,
                        (false, true) => window.interactive_waiting -= 1,
                        _ => {}
                    }
                    registered = pause.is_some();
                }
                pause
            };
            let Some(pause) = pause else {
                self.window.lock().await.in_flight += 1;
                self.calls.fetch_add(1, Ordering::Relaxed);
                if !waited.is_zero() {
                    self.waits.fetch_add(1, Ordering::Relaxed);
                    let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
                    self.waited_ms.fetch_add(ms, Ordering::Relaxed);
                }
                return Ok(());
            };
            if waited + pause > max_wait {
                let mut window = self.window.lock().await;
                if registered {
                    window.interactive_waiting = window.interactive_waiting.saturating_sub(1);
                }
                let reset_at = window.reset_at;
                return Err(IdpError::RateLimited {
                    reset_at,
                    retry_after: None,
                });
            }
            tracing::debug!(?pause, ?priority, "waiting for provider capacity");
            tokio::time::sleep(pause).await;
            waited += pause;
        }
    }

    /// A call [`Pacer::acquire`] let through got no answer (connection failed).
    pub async fn abandon(&self) {
        let mut window = self.window.lock().await;
        window.in_flight = window.in_flight.saturating_sub(1);
        window.probe_since = None;
    }

    /// Reads an answer's rate-limit headers into the window.
    pub async fn observe(&self, status: u16, headers: &HeaderMap) {
        {
            let mut window = self.window.lock().await;
            window.in_flight = window.in_flight.saturating_sub(1);
        }
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        if status == 429 {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        let remaining = number("x-ratelimit-remaining").and_then(|r| u64::try_from(r).ok());
        let limit = number("x-ratelimit-limit").and_then(|r| u64::try_from(r).ok());
        let reset_at = number("x-ratelimit-reset").and_then(|r| DateTime::from_timestamp(r, 0));
        let remaining = if status == 429 { Some(0) } else { remaining };
        if remaining.is_none() && reset_at.is_none() {
            // No headers (Janrain): nothing to pace by, and no probe to wait for.
            self.window.lock().await.probe_since = None;
            return;
        }
        let mut window = self.window.lock().await;
        window.probe_since = None;
        if limit.is_some() {
            window.limit = limit;
        }
        if let Some(remaining) = remaining {
            // Calls still in flight may have been counted after this answer was made:
            // assume they were not, so the window never promises more than is left.
            window.remaining = Some(remaining.saturating_sub(window.in_flight));
        }
        if reset_at.is_some() {
            window.reset_at = reset_at;
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> PaceStats {
        PaceStats {
            calls: self.calls.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
            waited_ms: self.waited_ms.load(Ordering::Relaxed),
        }
    }
}
