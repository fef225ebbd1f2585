//! One lock for the tests of a binary that start real processes (gateways, simulators,
//! PostgreSQL servers): they run one at a time, as separate binaries used to.

use std::sync::{Mutex, MutexGuard, PoisonError};

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock until the guard drops; a test that panicked holding it does not poison
/// the others.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}
