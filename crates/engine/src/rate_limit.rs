//! Rate limits for the request and completion steps, counted in the database so they hold
//! across replicas (fixed windows, one atomic upsert per hit).
//!
//! Request step (item 19): per client IP, per tenant + account, per tenant overall; the
//! values come from the tenant YAML, which the tenant crate already caps at the platform
//! ceilings. The account bucket's key is an HMAC of the lowercased email, never the email.
//! Completion step (item 20): per client IP across tenants, per token, and per tenant
//! overall; wrong codes and refused passwords are also counted on the token or flow itself.
//!
//! Every per-IP bucket keys on [`rate_key`] (an IPv6 client is its /64). A shared bucket (the
//! tenant's) only counts what the narrower buckets let through, so one client cannot fill it
//! for everyone: see "Budgets an attacker cannot spend for others" in docs/security.md.

use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
};

use chrono::TimeDelta;
use passgate_store::{
    Admission, Admitted, BucketHit, NewJob, RateBucket, RateLimitRepo, Sha256Digest, Store,
    Timestamp,
};
use passgate_tenant::{RateLimits, TenantId};

use crate::{
    client_ip::rate_key,
    clock::Clock,
    error::EngineError,
    group_commit::{GroupCommit, group_commit},
    secret_token::TokenHasher,
    settings::EngineSettings,
};

/// Admissions waiting together, committed in one transaction.
type Admissions = GroupCommit<(Admission, Timestamp), Result<Admitted, EngineError>>;

/// Which limit refused a step (for audit; never shown to the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// Too many requests from this client address.
    Ip,
    /// Too many requests for this account.
    Account,
    /// Too many requests for the whole tenant.
    Tenant,
}

impl LimitHit {
    /// Whether telling the client about this limit reveals nothing about the account: the
    /// client-address and whole-tenant buckets count what was sent, whoever it names; the
    /// per-address bucket would tell a stranger that someone asked for that address lately.
    pub fn says_nothing_about_the_account(self) -> bool {
        matches!(self, Self::Ip | Self::Tenant)
    }

    /// Stable name for audit outcomes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Account => "account",
            Self::Tenant => "tenant",
        }
    }
}

/// `waiting` admitted in one transaction; if that fails, each on its own, so one request's
/// failure is never another's. One result per admission, in order.
async fn admit_together(
    store: &Store,
    waiting: Vec<(Admission, Timestamp)>,
) -> Vec<Result<Admitted, EngineError>> {
    if waiting.len() > 1
        && let Ok(admitted) = store.admit_all(&waiting).await
    {
        return admitted.into_iter().map(Ok).collect();
    }
    let mut results = Vec::with_capacity(waiting.len());
    for (admission, now) in waiting {
        results.push(store.admit(admission, now).await.map_err(EngineError::from));
    }
    results
}

/// Live checks one link may ask for per hour: a debounced page checks about once per pause
/// in typing, so this leaves room for slow typists while capping what a leaked link offers
/// as a policy oracle.
pub const CHECKS_PER_TOKEN_PER_HOUR: u32 = 300;

/// The database-backed limits, with the platform's completion budgets.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    store: Store,
    /// Keys the account bucket by an HMAC of the address, never the address.
    hasher: TokenHasher,
    clock: Arc<dyn Clock>,
    redeem_per_ip_per_hour: u32,
    redeem_max_refusals: u32,
    redeem_per_tenant_per_minute: u32,
    /// The admissions' group committer, started on the first request (inside the runtime).
    admissions: Arc<OnceLock<Admissions>>,
}

impl Limits {
    pub(crate) fn new(
        store: Store,
        hasher: TokenHasher,
        clock: Arc<dyn Clock>,
        settings: &EngineSettings,
    ) -> Self {
        Self {
            store,
            hasher,
            clock,
            redeem_per_ip_per_hour: settings.redeem_per_ip_per_hour,
            redeem_max_refusals: settings.redeem_max_refusals,
            redeem_per_tenant_per_minute: settings.redeem_per_tenant_per_minute,
            admissions: Arc::default(),
        }
    }

    /// Admits `admission` with the others waiting at this moment, in one transaction: under a
    /// burst the database sees one commit per group of requests, not one per request.
    async fn admit(&self, admission: Admission) -> Result<Admitted, EngineError> {
        let admissions = self.admissions.get_or_init(|| {
            let store = self.store.clone();
            let (admissions, committer) = group_commit(move |waiting| {
                let store = store.clone();
                async move { admit_together(&store, waiting).await }
            });
            tokio::spawn(committer);
            admissions
        });
        let now = self.clock.now();
        match admissions.commit((admission, now)).await {
            Ok(admitted) => admitted,
            // The runtime that ran the committer is gone: admit on its own.
            Err(Some((admission, now))) => Ok(self.store.admit(admission, now).await?),
            Err(None) => Err(EngineError::Unrecorded(
                "the admission committer stopped".into(),
            )),
        }
    }

    async fn hit(
        &self,
        bucket: RateBucket,
        window: TimeDelta,
        limit: u32,
    ) -> Result<bool, EngineError> {
        Ok(self.hit_until(bucket, window, limit).await?.is_none())
    }

    /// Counts one hit; when over `limit`, says when the bucket's window ends.
    async fn hit_until(
        &self,
        bucket: RateBucket,
        window: TimeDelta,
        limit: u32,
    ) -> Result<Option<Timestamp>, EngineError> {
        let decision = self
            .store
            .hit(&bucket, window, limit, self.clock.now())
            .await?;
        Ok((!decision.allowed).then_some(decision.resets_at))
    }

    /// Admits one reset request in one transaction: counts it and queues `job(limit hit)`,
    /// the job for what the buckets said, and reports the first bucket over its limit with
    /// when its window ends. The client (IP /64) and account buckets are always both counted
    /// (the work never depends on which of them is full, nor on the account); the tenant's
    /// bucket only counts a request that both let through, so one client or one address
    /// flooding cannot silence the tenant's mail.
    pub(crate) async fn admit_request(
        &self,
        tenant: &TenantId,
        limits: &RateLimits,
        ip: IpAddr,
        account_key: &str,
        job: impl Fn(Option<LimitHit>) -> Result<NewJob, EngineError>,
    ) -> Result<Option<(LimitHit, Timestamp)>, EngineError> {
        let hour = TimeDelta::hours(1);
        let account = self.hasher.account(account_key).to_hex();
        let hit = |key: String, window: TimeDelta, limit: u32| BucketHit {
            bucket: RateBucket {
                tenant_id: Some(tenant.clone()),
                key,
            },
            window,
            limit,
        };
        let order = [LimitHit::Ip, LimitHit::Account, LimitHit::Tenant];
        let admission = Admission {
            always: vec![
                hit(
                    format!("request:ip:{}", rate_key(ip)),
                    hour,
                    limits.requests_per_ip_per_hour,
                ),
                hit(
                    format!("request:account:{account}"),
                    hour,
                    limits.requests_per_account_per_hour,
                ),
            ],
            then: vec![hit(
                "request:tenant".into(),
                TimeDelta::minutes(1),
                limits.requests_per_tenant_per_minute,
            )],
            admitted: job(None)?,
            refused: order
                .iter()
                .map(|which| job(Some(*which)))
                .collect::<Result<_, _>>()?,
        };
        let admitted = self.admit(admission).await?;
        Ok(admitted
            .over
            .and_then(|(index, until)| Some((*order.get(index)?, until))))
    }

    /// Counts one completion attempt from `ip`'s /64 (platform-wide bucket); `false` when over.
    pub(crate) async fn hit_redeem_ip(&self, ip: IpAddr) -> Result<bool, EngineError> {
        let bucket = RateBucket {
            tenant_id: None,
            key: format!("redeem:ip:{}", rate_key(ip)),
        };
        self.hit(bucket, TimeDelta::hours(1), self.redeem_per_ip_per_hour)
            .await
    }

    /// Counts one completion attempt with the usable token or flow `row`; `false` when over.
    /// Refusals already kill a token after `redeem_max_refusals`, but concurrent attempts all
    /// pass verification before any of them is refused: this atomic count caps a burst too.
    /// Five times the refusal limit per hour: retries through a provider outage still fit, and
    /// so does a burst of duplicate submissions (50 at the default), which must still see
    /// "invalid link" after the one that wins (item 6), not "throttled".
    pub(crate) async fn hit_redeem_token(
        &self,
        tenant: &TenantId,
        row: &Sha256Digest,
    ) -> Result<bool, EngineError> {
        let limit = self.redeem_max_refusals.saturating_mul(5);
        self.hit_per_row("redeem", tenant, row, limit).await
    }

    /// Counts one hit on `row`'s hourly bucket of `step`; `false` when over `limit`.
    async fn hit_per_row(
        &self,
        step: &str,
        tenant: &TenantId,
        row: &Sha256Digest,
        limit: u32,
    ) -> Result<bool, EngineError> {
        let bucket = RateBucket {
            tenant_id: Some(tenant.clone()),
            key: format!("{step}:token:{}", row.to_hex()),
        };
        self.hit(bucket, TimeDelta::hours(1), limit).await
    }

    /// Counts one completion attempt against `tenant`'s overall bucket; `false` when over. Only
    /// attempts that passed the client's bucket and carry a usable credential (whose refusals
    /// are capped per token) get here, so no single client can fill it.
    pub(crate) async fn hit_redeem_tenant(&self, tenant: &TenantId) -> Result<bool, EngineError> {
        let bucket = RateBucket {
            tenant_id: Some(tenant.clone()),
            key: "redeem:tenant".into(),
        };
        self.hit(
            bucket,
            TimeDelta::minutes(1),
            self.redeem_per_tenant_per_minute,
        )
        .await
    }

    /// Counts one live password check on the token row `row`; `false` when over
    /// [`CHECKS_PER_TOKEN_PER_HOUR`]. Its own bucket: checks never spend the
    /// completion budget of the token.
    pub(crate) async fn hit_check_token(
        &self,
        tenant: &TenantId,
        row: &Sha256Digest,
    ) -> Result<bool, EngineError> {
        self.hit_per_row("check", tenant, row, CHECKS_PER_TOKEN_PER_HOUR)
            .await
    }
}
