//! Pacing one provider tenant: the `x-ratelimit-limit/remaining/reset` headers of every
//! answer tell how much capacity is left and when it comes back, so callers wait for it
//! instead of firing and eating 429s. Interactive calls (a user waiting on the completion's
//! PATCH) may spend the last unit; background calls (look-ups, tickets, mails) leave it.
//!
//! Once a window is spent the pacer does not wait for `x-ratelimit-reset` (a whole second,
//! rounded up, at which the *whole* bucket is back): it spaces calls one refill apart. The
//! refill time is learned from the answers. A call that finds the bucket full (the answer
//! says `remaining = limit - 1`) starts a series; while the bucket is not full again, the
//! `k`-th answer of the series has a reset at or after `first sent + k refills` (the reset
//! is when the bucket is full, rounded up), so `(reset - first sent) / k` is a refill time
//! never shorter than the real one, and closer with every answer. A 429 anyway (a clock
//! ahead of the provider's, a provider whose reset means something else) waits for the
//! reset and raises the floor of the refill time by half.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};
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

/// Answers since a call found the bucket full: each one moves the reset a refill on.
#[derive(Debug, Clone, Copy)]
struct Series {
    /// When the call that found the bucket full was sent.
    started: DateTime<Utc>,
    /// The latest reset seen.
    latest: DateTime<Utc>,
    /// Calls the series has counted (the first included).
    calls: u32,
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
    /// How long the provider takes to give back one unit (learned; kept across windows,
    /// it is the plan's rate).
    refill: Option<Duration>,
    /// The answers the refill is being learned from.
    series: Option<Series>,
    /// The refill time never goes below this (raised by 429s).
    refill_floor: Duration,
    /// When the last call was let through: a spent window lets the next one go a refill
    /// later.
    last_sent: Option<Instant>,
    /// The last answer was a 429: wait for the reset, not for a refill.
    refused: bool,
    /// Calls are being spaced (a call found the window spent, and no answer since showed
    /// room): a probe after a reset keeps the spacing too.
    pacing: bool,
}

impl Window {
    /// Forgets a finished window, keeping who is waiting.
    fn reset(&mut self) {
        if self.refused {
            // The provider said when to come back, and that time has come: no spacing
            // from the refused call.
            self.pacing = false;
        }
        self.remaining = None;
        self.limit = None;
        self.reset_at = None;
        self.probe_since = None;
        self.refused = false;
    }

    /// How long until one refill (plus 1/8) has passed since the last call; zero when the
    /// rate or the last call is unknown.
    fn spacing(&self, clock_now: Instant) -> Duration {
        match (self.refill, self.last_sent) {
            // A 1/8 margin: spacing at exactly the refill meets a 429 whenever one answer
            // travels slower than the next.
            (Some(refill), Some(last)) => {
                (last + refill + refill / 8).saturating_duration_since(clock_now)
            }
            _ => Duration::ZERO,
        }
    }

    /// How long a spent window makes the next call wait: a refill after the last call when
    /// the rate is known, else until the reset.
    fn spent_pause(&self, now: DateTime<Utc>, clock_now: Instant) -> Duration {
        let until_reset = || {
            self.reset_at
                .and_then(|reset| (reset - now).to_std().ok())
                .unwrap_or(MIN_PAUSE)
                .clamp(MIN_PAUSE, MAX_PAUSE)
        };
        if !self.refused && self.refill.is_some() && self.last_sent.is_some() {
            self.spacing(clock_now).min(until_reset())
        } else {
            until_reset()
        }
    }

    /// Learns the refill time from the answer to an accepted call sent at `sent` (see the
    /// module doc).
    fn learn_refill(
        &mut self,
        sent: DateTime<Utc>,
        limit: u64,
        remaining: u64,
        reset: DateTime<Utc>,
    ) {
        let series = match self.series {
            _ if remaining + 1 == limit => Series {
                started: sent,
                latest: reset,
                calls: 1,
            },
            Some(series) => Series {
                latest: series.latest.max(reset),
                calls: series.calls.saturating_add(1),
                ..series
            },
            None => return,
        };
        self.series = Some(series);
        let Ok(span) = (series.latest - series.started).to_std() else {
            return;
        };
        let sample = (span / series.calls).max(self.refill_floor);
        self.refill = Some(self.refill.map_or(sample, |known| known.min(sample)));
    }
}

/// A probe whose answer never came stops blocking others after this (a failed call clears
/// it at once; this only bounds a hung one).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest single pause before the window is looked at again.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The pacers alive in this process, by provider endpoint.
static PACERS: LazyLock<std::sync::Mutex<HashMap<String, Weak<Pacer>>>> =
    LazyLock::new(Default::default);

/// The pacer of the provider tenant at `endpoint`, shared by every client of the process
/// that talks to it: the bucket is the provider tenant's, so a client rebuilt (a binding
/// edited, two jobs building one at once) must not start a second, empty window beside it.
pub(crate) fn pacer_for(endpoint: &str) -> Arc<Pacer> {
    let mut pacers = PACERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pacer) = pacers.get(endpoint).and_then(Weak::upgrade) {
        return pacer;
    }
    pacers.retain(|_, pacer| pacer.strong_count() > 0);
    let pacer = Arc::new(Pacer::default());
    pacers.insert(endpoint.to_owned(), Arc::downgrade(&pacer));
    pacer
}

/// The limiter of one provider tenant (see [`pacer_for`]).
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
    ) -> Result<DateTime<Utc>, IdpError> {
        let mut waited = Duration::ZERO;
        let mut registered = false;
        loop {
            // Waiting for the first call's answer (the window is unknown) is not waiting for
            // capacity: it is bounded by PROBE_TIMEOUT and never counts against `max_wait`,
            // or a slow first answer would refuse every call sent beside it as rate limited.
            let mut behind_probe = false;
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
                    Some(_) if yield_to_user => Some(MIN_PAUSE),
                    Some(remaining) if remaining <= reserve => {
                        window.pacing = true;
                        let pause = window.spent_pause(now, Instant::now());
                        (!pause.is_zero()).then_some(pause)
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
                        behind_probe = !yield_to_user;
                        Some(MIN_PAUSE)
                    }
                    // A probe after a reset still keeps the learned spacing while pacing: a
                    // late answer must not let a call through early.
                    None if window.pacing && !window.spacing(Instant::now()).is_zero() => {
                        Some(window.spacing(Instant::now()).min(MAX_PAUSE))
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
                if pause.is_none() {
                    // Counted under the same lock as the decision: a waiter woken at the
                    // same moment must see this call, or both go out in one refill.
                    window.in_flight += 1;
                    window.last_sent = Some(Instant::now());
                }
                pause
            };
            let Some(pause) = pause else {
                self.calls.fetch_add(1, Ordering::Relaxed);
                if !waited.is_zero() {
                    self.waits.fetch_add(1, Ordering::Relaxed);
                    let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
                    self.waited_ms.fetch_add(ms, Ordering::Relaxed);
                }
                return Ok(clock.now());
            };
            if !behind_probe && waited + pause > max_wait {
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
            if !behind_probe {
                waited += pause;
            }
        }
    }

    /// A call [`Pacer::acquire`] let through got no answer (connection failed).
    pub async fn abandon(&self) {
        let mut window = self.window.lock().await;
        window.in_flight = window.in_flight.saturating_sub(1);
        window.probe_since = None;
    }

    /// Reads the rate-limit headers of the answer to a call sent at `sent` (what
    /// [`Pacer::acquire`] returned) into the window.
    pub async fn observe(&self, sent: DateTime<Utc>, status: u16, headers: &HeaderMap) {
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
        if status == 429 {
            // Spaced and still refused: the refill was read too optimistically.
            if !window.refused
                && let Some(refill) = window.refill
            {
                window.refill_floor = refill * 3 / 2;
                window.refill = Some(window.refill_floor);
            }
            window.refused = true;
            window.series = None;
        } else {
            window.refused = false;
            if let (Some(limit), Some(remaining), Some(reset)) = (limit, remaining, reset_at) {
                window.learn_refill(sent, limit, remaining, reset);
            }
        }
        if remaining.is_some_and(|r| r > 1) {
            // Room beyond the last unit: nothing to space.
            window.pacing = false;
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

#[cfg(test)]
mod tests;
