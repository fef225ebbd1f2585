//! Time as an input: the one [`Clock`] of Passgate (from `passgate-clock`, shared with the
//! provider clients). Every expiry, window and backoff in the engine asks it, so tests use a
//! [`FixedClock`] and check exact boundaries (valid at TTL, invalid at TTL + 1 s).

pub use passgate_clock::{Clock, FixedClock, SystemClock};
