//! [`EngineSettings`]: platform-level knobs (not per tenant): the public base URL links are
//! built from, the sender, worker cadence, retry bounds and the platform rate-limit ceilings.

use std::time::Duration;

/// How the engine runs. Built once at startup by the binary; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The configured public origin of the hosted pages, e.g. `https://reset.example.com`.
    /// Every link in a mail starts with it; a request's `Host` is never used (item 41).
    pub public_base_url: String,
    /// The sender used when a tenant sets none, e.g. `Passgate <no-reply@reset.example.com>`.
    pub default_from: String,
    /// The right-hand side of generated `Message-ID`s, e.g. `reset.example.com`.
    pub message_id_domain: String,
    /// Every reset request answers no sooner than this after it arrived, so the time taken
    /// never depends on the account (item 13). The work itself is already identical.
    pub request_floor: Duration,
    /// Background job (lookup + issue) cadence and retry bounds.
    pub jobs: WorkerSettings,
    /// Outbox cadence and retry bounds.
    pub outbox: WorkerSettings,
    /// Wrong codes before a code-mode flow dies (Kratos uses 5).
    pub code_max_attempts: u32,
    /// Refused completion attempts (mismatch, policy, history, provider rejection) before a
    /// link token or code flow is spent: one token cannot buy unbounded password checks or
    /// shares of the tenant's redemption budget.
    pub redeem_max_refusals: u32,
    /// Completion attempts per client (IPv4 address or IPv6 /64) per hour, across tenants
    /// (item 20).
    pub redeem_per_ip_per_hour: u32,
    /// Completion attempts per tenant per minute (item 20 "globally", item 23 isolation).
    pub redeem_per_tenant_per_minute: u32,
    /// Argon2id hashes computed at once (history); each takes ~13 ms of one core. Default:
    /// [`default_hashing_concurrency`] (cores − 1, at least 1).
    pub hashing_concurrency: usize,
    /// Consecutive provider outages (timeouts, 5xx, refused connections, 429) that open a
    /// tenant's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit stops provider calls for that tenant.
    pub breaker_cooldown: Duration,
}

impl EngineSettings {
    /// Settings with production defaults for `public_base_url`.
    pub fn new(public_base_url: impl Into<String>) -> Self {
        let public_base_url = public_base_url.into().trim_end_matches('/').to_owned();
        let domain = public_base_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|host| !host.is_empty())
            .unwrap_or("passgate.invalid")
            .to_owned();
        Self {
            default_from: format!("Passgate <no-reply@{domain}>"),
            message_id_domain: domain,
            public_base_url,
            request_floor: Duration::from_millis(150),
            // Up to ~15 minutes of retries: a provider outage is ridden out within the
            // token lifetime (a job older than the TTL is dropped anyway).
            jobs: WorkerSettings {
                max_attempts: 10,
                ..WorkerSettings::default()
            },
            outbox: WorkerSettings {
                max_attempts: 8,
                ..WorkerSettings::default()
            },
            code_max_attempts: 5,
            redeem_max_refusals: 10,
            redeem_per_ip_per_hour: 100,
            redeem_per_tenant_per_minute: 600,
            hashing_concurrency: default_hashing_concurrency(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }

    /// Checks what [`EngineSettings::new`] cannot: the public base URL must be `https://`
    /// (item 42), except `http://localhost` or `http://127.0.0.1` for the local demo.
    pub fn check(&self) -> Result<(), String> {
        let url = &self.public_base_url;
        let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
            .iter()
            .any(|prefix| {
                url.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        let https = url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if https || local {
            Ok(())
        } else {
            Err(format!("public base URL {url:?} must start with https://"))
        }
    }

    /// The hosted link for a token: `{base}/reset/confirm?token=…`. The web layer moves the
    /// token out of the address bar on the first GET (item 34).
    pub fn reset_link(&self, token: &str) -> String {
        format!("{}/reset/confirm?token={token}", self.public_base_url)
    }

    /// [`Self::reset_link`] naming the app and the reset's locale too, so a link that no
    /// longer works still gets that app's branded page, in the reset's language, with a way
    /// to request a new one (the token alone says nothing once it is spent or expired).
    pub fn reset_link_for(&self, token: &str, client_id: &str, locale: &str) -> String {
        // Client ids and locale tags are validated to URL-safe characters (ids.rs).
        format!(
            "{}&client_id={client_id}&locale={locale}",
            self.reset_link(token)
        )
    }

    /// The page Janrain's email links to for `client_id` (Janrain appends `code=…`).
    pub fn janrain_landing(&self, client_id: &str) -> String {
        format!(
            "{}/reset/janrain?client_id={client_id}",
            self.public_base_url
        )
    }
}

/// One argon2id hash at a time per core, less one core kept for serving pages: two hashes
/// on a 2-core machine would hold both cores and stall every page behind them.
pub fn default_hashing_concurrency() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get().saturating_sub(1))
        .max(1)
}

/// One worker round at a time per core.
pub fn default_lanes() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8)
}

/// Cadence and bounds of one durable worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// How long an idle worker sleeps before looking again.
    pub poll_interval: Duration,
    /// How long a claimed item belongs to its worker; a crashed worker's items come back
    /// after it.
    pub lease: Duration,
    /// Items claimed per round.
    pub batch: u32,
    /// Job rounds run at once on PostgreSQL, each its own task (so on its own core): a
    /// round's work (mail rendering, sealing, the database driver) is one task's, and one core
    /// caps it. The job worker's only: SQLite runs one (one writer), and the outbox sends a
    /// batch concurrently over its SMTP connections instead.
    pub lanes: usize,
    /// Attempts before an item is given up (dead-lettered).
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with jitter.
    pub base_backoff: Duration,
    /// Ceiling of one retry delay.
    pub max_backoff: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            batch: 16,
            lanes: default_lanes(),
            max_attempts: 6,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl WorkerSettings {
    /// The delay before attempt `attempts + 1`: `base · 2^(attempts-1)`, capped, with "equal
    /// jitter" (between half and all of it) so many items do not retry in lockstep.
    pub fn backoff(&self, attempts: u32, jitter_fraction: f64) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(16)));
        let capped = exp.min(self.max_backoff);
        capped / 2 + capped.mul_f64(jitter_fraction.clamp(0.0, 1.0) / 2.0)
    }

    /// The shortest time an item is retried before it is given up: the sum of every retry's
    /// delay at its lowest jitter.
    pub fn min_retry_window(&self) -> Duration {
        (1..self.max_attempts).map(|a| self.backoff(a, 0.0)).sum()
    }

    /// Sets the backoff ceiling and raises `max_attempts` so the retry window does not
    /// shrink: a lower ceiling means more frequent attempts, never giving up sooner (an SMTP
    /// or provider outage that the defaults ride out must not dead-letter mail).
    pub fn with_max_backoff(mut self, ceiling: Duration) -> Self {
        let window = self.min_retry_window();
        self.max_backoff = ceiling;
        self.base_backoff = self.base_backoff.min(ceiling);
        let mut covered = self.min_retry_window();
        while covered < window && self.max_attempts < u32::MAX {
            covered += self.backoff(self.max_attempts, 0.0);
            self.max_attempts += 1;
        }
        self
    }
}

/// A uniform fraction in `[0, 1)` for [`WorkerSettings::backoff`]'s jitter (not security
/// relevant).
pub(crate) fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_half() {
        let w = WorkerSettings::default();
        assert_eq!(w.backoff(1, 1.0), Duration::from_secs(5));
        assert_eq!(w.backoff(2, 1.0), Duration::from_secs(10));
        assert_eq!(w.backoff(1, 0.0), Duration::from_millis(2500));
        assert_eq!(w.backoff(30, 1.0), Duration::from_secs(300));
    }

    #[test]
    fn a_lower_backoff_ceiling_keeps_the_retry_window() {
        let defaults = EngineSettings::new("https://reset.example.com");
        for worker in [defaults.jobs, defaults.outbox] {
            let window = worker.min_retry_window();
            for secs in [1, 2, 5, 60, 300, 3600] {
                let tuned = worker.with_max_backoff(Duration::from_secs(secs));
                assert_eq!(tuned.max_backoff, Duration::from_secs(secs));
                assert!(tuned.min_retry_window() >= window, "ceiling {secs} s");
                assert!(tuned.max_attempts >= worker.max_attempts);
            }
        }
        // The outbox rides out at least 5 minutes even when retrying every 1–2 s.
        let fast = defaults.outbox.with_max_backoff(Duration::from_secs(2));
        assert!(fast.min_retry_window() >= Duration::from_secs(300));
        assert_eq!(
            defaults
                .outbox
                .with_max_backoff(Duration::from_secs(300))
                .max_attempts,
            8
        );
    }

    #[test]
    fn links_use_the_configured_origin_only() {
        let s = EngineSettings::new("https://reset.example.com/");
        assert_eq!(
            s.reset_link("abc"),
            "https://reset.example.com/reset/confirm?token=abc"
        );
        assert_eq!(s.message_id_domain, "reset.example.com");
        assert!(s.check().is_ok());
        assert!(
            EngineSettings::new("http://reset.example.com")
                .check()
                .is_err()
        );
        assert!(EngineSettings::new("http://localhost:8080").check().is_ok());
        assert!(
            EngineSettings::new("http://localhost.evil.example")
                .check()
                .is_err()
        );
        assert!(EngineSettings::new("https://").check().is_err());
    }
}
