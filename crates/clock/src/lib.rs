//! Time as an input: the one [`Clock`] of Passgate. Every expiry, window, backoff and
//! provider rate-limit reset asks a [`Clock`], so tests use a [`FixedClock`] and check exact
//! boundaries (valid at TTL, invalid at TTL + 1 s).
//!
//! Its own crate because both the reset engine and the provider clients need it and neither
//! is the other's natural home: the engine depends on the provider crate, and a clock inside
//! the provider crate would make the engine's notion of time a provider detail. Before this
//! crate each had its own trait, and their `FixedClock`s behaved differently (one shared and
//! movable, one a frozen copy).
//!
//! # Layout
//! - [`Clock`]: the source of "now".
//! - [`SystemClock`]: the wall clock (the one place it is read; clippy bans it elsewhere).
//! - [`FixedClock`]: a clock that moves only when told; clones share one time line.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// The source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests, simulations and deterministic tools.
/// Clones share one time line, so a test can hold one and hand another to the code under
/// test.
#[derive(Debug, Clone)]
pub struct FixedClock {
    /// Shared so every clone moves together.
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl FixedClock {
    /// A clock frozen at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told_and_clones_share_one_time_line() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let clock = FixedClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(30));
        assert_eq!(clock.now(), start + Duration::seconds(30));
        let shared = clock.clone();
        shared.set(start);
        assert_eq!(clock.now(), start, "clones share one time line");
    }
}
