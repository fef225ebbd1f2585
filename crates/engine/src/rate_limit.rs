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

use std::net::IpAddr;

use chrono::TimeDelta;
use passgate_store::{RateBucket, RateLimitRepo, Sha256Digest, Timestamp};
use passgate_tenant::{RateLimits, TenantId};

use crate::{client_ip::rate_key, engine::Inner, error::EngineError};

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

/// Counts one reset request and reports the first bucket that is over its limit, with when
/// its window ends. The client
/// (IP /64) and account buckets are always both counted (the work never depends on which of
/// them is full, nor on the account); the tenant's bucket only counts a request that both let
/// through, so one client or one address flooding cannot silence the tenant's mail.
pub(crate) async fn hit_request(
    inner: &Inner,
    tenant: &TenantId,
    limits: &RateLimits,
    ip: IpAddr,
    account_key: &str,
) -> Result<Option<(LimitHit, Timestamp)>, EngineError> {
    let now = inner.clock.now();
    let hour = TimeDelta::hours(1);
    let account = inner.hasher.account(account_key).to_hex();
    let narrow = [
        (
            LimitHit::Ip,
            RateBucket {
                tenant_id: Some(tenant.clone()),
                key: format!("request:ip:{}", rate_key(ip)),
            },
            limits.requests_per_ip_per_hour,
        ),
        (
            LimitHit::Account,
            RateBucket {
                tenant_id: Some(tenant.clone()),
                key: format!("request:account:{account}"),
            },
            limits.requests_per_account_per_hour,
        ),
    ];
    let mut first = None;
    for (which, bucket, limit) in narrow {
        let decision = inner.store.hit(&bucket, hour, limit, now).await?;
        if !decision.allowed && first.is_none() {
            first = Some((which, decision.resets_at));
        }
    }
    if first.is_some() {
        return Ok(first);
    }
    let bucket = RateBucket {
        tenant_id: Some(tenant.clone()),
        key: "request:tenant".into(),
    };
    let decision = inner
        .store
        .hit(
            &bucket,
            TimeDelta::minutes(1),
            limits.requests_per_tenant_per_minute,
            now,
        )
        .await?;
    Ok((!decision.allowed).then_some((LimitHit::Tenant, decision.resets_at)))
}

/// Counts one completion attempt from `ip`'s /64 (platform-wide bucket); `false` when over.
pub(crate) async fn hit_redeem_ip(inner: &Inner, ip: IpAddr) -> Result<bool, EngineError> {
    let bucket = RateBucket {
        tenant_id: None,
        key: format!("redeem:ip:{}", rate_key(ip)),
    };
    let decision = inner
        .store
        .hit(
            &bucket,
            TimeDelta::hours(1),
            inner.settings.redeem_per_ip_per_hour,
            inner.clock.now(),
        )
        .await?;
    Ok(decision.allowed)
}

/// Counts one completion attempt with the usable token or flow `row`; `false` when over.
/// Refusals already kill a token after `redeem_max_refusals`, but concurrent attempts all
/// pass verification before any of them is refused: this atomic count caps a burst too.
/// Five times the refusal limit per hour: retries through a provider outage still fit, and
/// so does a burst of duplicate submissions (50 at the default), which must still see
/// "invalid link" after the one that wins (item 6), not "throttled".
pub(crate) async fn hit_redeem_token(
    inner: &Inner,
    tenant: &TenantId,
    row: &Sha256Digest,
) -> Result<bool, EngineError> {
    let bucket = RateBucket {
        tenant_id: Some(tenant.clone()),
        key: format!("redeem:token:{}", row.to_hex()),
    };
    let limit = inner.settings.redeem_max_refusals.saturating_mul(5);
    let decision = inner
        .store
        .hit(&bucket, TimeDelta::hours(1), limit, inner.clock.now())
        .await?;
    Ok(decision.allowed)
}

/// Counts one completion attempt against `tenant`'s overall bucket; `false` when over. Only
/// attempts that passed the client's bucket and carry a usable credential (whose refusals
/// are capped per token) get here, so no single client can fill it.
pub(crate) async fn hit_redeem_tenant(
    inner: &Inner,
    tenant: &TenantId,
) -> Result<bool, EngineError> {
    let bucket = RateBucket {
        tenant_id: Some(tenant.clone()),
        key: "redeem:tenant".into(),
    };
    let decision = inner
        .store
        .hit(
            &bucket,
            TimeDelta::minutes(1),
            inner.settings.redeem_per_tenant_per_minute,
            inner.clock.now(),
        )
        .await?;
    Ok(decision.allowed)
}

/// Counts one live password check on the token row `row`; `false` when over
/// [`crate::live_check::CHECKS_PER_TOKEN_PER_HOUR`]. Its own bucket: checks never spend the
/// completion budget of the token.
pub(crate) async fn hit_check_token(
    inner: &Inner,
    tenant: &TenantId,
    row: &Sha256Digest,
) -> Result<bool, EngineError> {
    let bucket = RateBucket {
        tenant_id: Some(tenant.clone()),
        key: format!("check:token:{}", row.to_hex()),
    };
    let decision = inner
        .store
        .hit(
            &bucket,
            TimeDelta::hours(1),
            crate::live_check::CHECKS_PER_TOKEN_PER_HOUR,
            inner.clock.now(),
        )
        .await?;
    Ok(decision.allowed)
}
