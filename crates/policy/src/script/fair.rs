//! Each tenant's bounded share of the script workers: at most `share` jobs queued or running
//! per tenant and [`Lane`], a few more waiting for one of the tenant's own slots, the rest
//! refused at once. One tenant's runaway rule therefore slows only that tenant.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::pool::lock;

/// A tenant's calls beyond its share that may wait for one of its slots, per lane; the rest
/// fail fast.
pub(crate) const MAX_WAITING_PER_TENANT: usize = 16;

/// Which of a tenant's two shares a job counts against: its users' password checks, or its
/// editors' compile-time work (load and examples), so validating a document never makes
/// the tenant's own users' checks fail either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lane {
    /// A user's password.
    Check,
    /// Loading a script and running its examples for a config write or preview.
    Compile,
}

/// The per-tenant bound on queued and running jobs.
#[derive(Debug)]
pub(crate) struct Fair {
    /// Jobs one tenant may have queued or running at once.
    share: usize,
    /// In-flight and waiting counts by tenant and lane (only those with either above zero).
    load: Mutex<HashMap<(Arc<str>, Lane), TenantLoad>>,
    /// Signalled whenever a slot is freed.
    freed: Condvar,
}

#[derive(Debug, Default)]
struct TenantLoad {
    in_flight: usize,
    waiting: usize,
}

/// One of a tenant's [`Fair::share`] slots in one lane, given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    fair: Arc<Fair>,
    key: (Arc<str>, Lane),
}

impl Fair {
    /// A share of `share` jobs per tenant and lane.
    pub(crate) fn new(share: usize) -> Self {
        Self {
            share: share.max(1),
            load: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        }
    }

    /// Takes one of `tenant`'s slots, waiting up to `patience` for one to be freed if it has
    /// none, unless [`MAX_WAITING_PER_TENANT`] of its calls already wait: `None` is
    /// "overloaded, for this tenant".
    pub(crate) fn admit(
        self: &Arc<Self>,
        tenant: &Arc<str>,
        lane: Lane,
        patience: Duration,
    ) -> Option<Slot> {
        let key = (Arc::clone(tenant), lane);
        let until = Instant::now() + patience;
        let mut load = lock(&self.load);
        let mut waiting = false;
        loop {
            let entry = load.entry(key.clone()).or_default();
            if entry.in_flight < self.share {
                entry.in_flight += 1;
                entry.waiting -= usize::from(waiting);
                return Some(Slot {
                    fair: Arc::clone(self),
                    key,
                });
            }
            if !waiting {
                if entry.waiting >= MAX_WAITING_PER_TENANT {
                    return None;
                }
                entry.waiting += 1;
                waiting = true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                entry.waiting -= 1;
                return None;
            }
            load = self
                .freed
                .wait_timeout(load, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut load = lock(&self.fair.load);
        if let Some(entry) = load.get_mut(&self.key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if entry.in_flight == 0 && entry.waiting == 0 {
                load.remove(&self.key);
            }
        }
        drop(load);
        self.fair.freed.notify_all();
    }
}
