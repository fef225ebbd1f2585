//! [`Clock`]: wall-clock time as an input, so rate-limit resets (`x-ratelimit-reset` is an
//! epoch second) can be tested exactly. The one clock of Passgate, from `passgate-clock`
//! (the engine uses the same one).

pub use passgate_clock::{Clock, FixedClock, SystemClock};
