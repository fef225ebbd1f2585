//! Rate limits for the request and completion steps, counted in the database so they hold
//! across replicas (fixed windows, one atomic upsert per hit).
//!
//! Request step (item 19): per client IP, per tenant + account, per tenant overall; the
//! values come from the tenant YAML, which the tenant crate already caps at the platform
//! ceilings. The account bucket's key is an HMAC of the lowercased email, never the email.
//! Completion step (item 20): per client IP across tenants and per tenant overall; wrong codes
//! are counted on the flow itself.

use std::net::IpAddr;

use chrono::TimeDelta;
use passgate_store::{RateBucket, RateLimitRepo};
use passgate_tenant::{RateLimits, TenantId};

use crate::{engine::Inner, error::EngineError};

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
    /// Stable name for audit outcomes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Account => "account",
            Self::Tenant => "tenant",
        }
    }
}

/// Counts one reset request in all three buckets (always all three, so the work done never
/// depends on which bucket is full) and reports the first that is over its limit.
pub(crate) async fn hit_request(
    inner: &Inner,
    tenant: &TenantId,
    limits: &RateLimits,
    ip: IpAddr,
    account_key: &str,
) -> Result<Option<LimitHit>, EngineError> {
    let now = inner.clock.now();
    let hour = TimeDelta::hours(1);
    let account = inner.hasher.account(account_key).to_hex();
    let checks = [
        (
            LimitHit::Ip,
            RateBucket {
                tenant_id: Some(tenant.clone()),
                key: format!("request:ip:{ip}"),
            },
            hour,
            limits.requests_per_ip_per_hour,
        ),
        (
            LimitHit::Account,
            RateBucket {
                tenant_id: Some(tenant.clone()),
                key: format!("request:account:{account}"),
            },
            hour,
            limits.requests_per_account_per_hour,
        ),
        (
            LimitHit::Tenant,
            RateBucket {
                tenant_id: Some(tenant.clone()),
                key: "request:tenant".into(),
            },
            TimeDelta::minutes(1),
            limits.requests_per_tenant_per_minute,
        ),
    ];
    let mut first = None;
    for (which, bucket, window, limit) in checks {
        let decision = inner.store.hit(&bucket, window, limit, now).await?;
        if !decision.allowed && first.is_none() {
            first = Some(which);
        }
    }
    Ok(first)
}

/// Counts one completion attempt from `ip` (platform-wide bucket); `false` when over.
pub(crate) async fn hit_redeem_ip(inner: &Inner, ip: IpAddr) -> Result<bool, EngineError> {
    let bucket = RateBucket {
        tenant_id: None,
        key: format!("redeem:ip:{ip}"),
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

/// Counts one completion attempt against `tenant`'s overall bucket; `false` when over.
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
