//! Plan rate limits (spec D6): a token bucket for the Management API per plan, and
//! `/dbconnections/change_password` per client IP + email (a burst of 10, then one a
//! minute). Every Auth0 answer carries `x-ratelimit-limit/remaining/reset` (epoch seconds);
//! a request over the limit gets a real 429 and changes nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::{Auth0Settings, Plan};

/// A token bucket: `capacity` requests at once, refilled at `per_sec`.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    updated: Instant,
}

/// What the bucket said about one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Verdict {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// `x-ratelimit-limit`.
    pub limit: u32,
    /// `x-ratelimit-remaining` after this request.
    pub remaining: u32,
    /// Seconds from now until the answer's `x-ratelimit-reset`: when the bucket is full
    /// again, or (refused) when the next request will be accepted.
    pub reset_in_secs: f64,
}

impl Bucket {
    fn new(capacity: u32, per_sec: f64) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_sec,
            tokens: f64::from(capacity),
            updated: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.updated = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let reset_in_secs = if allowed {
            (self.capacity - self.tokens) / self.per_sec
        } else {
            (1.0 - self.tokens) / self.per_sec
        };
        Verdict {
            allowed,
            // Whole numbers well inside u32: capacities come from the seed.
            limit: self.capacity as u32,
            remaining: self.tokens.floor().max(0.0) as u32,
            reset_in_secs,
        }
    }
}

/// The simulator's limits.
#[derive(Debug)]
pub(crate) struct Limits {
    management: Option<Mutex<Bucket>>,
    change_password: Mutex<HashMap<(Option<IpAddr>, String), Bucket>>,
}

/// `change_password`: 10 at once per IP + email, then one a minute.
const CHANGE_PASSWORD_BURST: u32 = 10;
const CHANGE_PASSWORD_PER_SEC: f64 = 1.0 / 60.0;

impl Limits {
    pub(crate) fn new(settings: &Auth0Settings) -> Self {
        let (burst, per_sec) = match settings.plan {
            // Free: 2 requests per second.
            Plan::Free => (2, 2.0),
            // Paid self-service: ~15 rps sustained, bursts allowed (older docs: 50).
            Plan::SelfService => (50, 15.0),
            Plan::Enterprise => (100, 100.0),
        };
        let burst = settings.management_burst.unwrap_or(burst).max(1);
        let per_sec = settings.management_rps.unwrap_or(per_sec).max(0.001);
        Self {
            management: settings
                .rate_limits
                .then(|| Mutex::new(Bucket::new(burst, per_sec))),
            change_password: Mutex::new(HashMap::new()),
        }
    }

    /// One Management API request.
    pub(crate) fn management(&self) -> Option<Verdict> {
        let bucket = self.management.as_ref()?;
        let mut bucket = bucket.lock().unwrap_or_else(|e| e.into_inner());
        Some(bucket.take(Instant::now()))
    }

    /// One change-password request from `peer` for `email` (only when limits are on).
    pub(crate) fn change_password(&self, peer: Option<IpAddr>, email: &str) -> Option<Verdict> {
        self.management.as_ref()?;
        let mut buckets = self
            .change_password
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((peer, email.trim().to_lowercase()))
            .or_insert_with(|| Bucket::new(CHANGE_PASSWORD_BURST, CHANGE_PASSWORD_PER_SEC));
        Some(bucket.take(Instant::now()))
    }
}
