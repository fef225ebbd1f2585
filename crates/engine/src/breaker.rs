//! A circuit breaker per tenant around its identity provider (item 68): after
//! `threshold` consecutive outage-type failures (timeouts, 5xx, refused connections, 429),
//! calls for that tenant stop for `cooldown` — jobs are put back, completions answer "try
//! again later" at once — instead of piling more requests onto a struggling provider. One
//! call is let through when the cooldown ends (half-open); its outcome closes or reopens the
//! circuit. Per tenant, so one tenant's provider outage never slows another tenant (a
//! bulkhead).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use chrono::{DateTime, TimeDelta, Utc};
use passgate_tenant::TenantId;

#[derive(Debug, Default, Clone, Copy)]
struct Circuit {
    failures: u32,
    open_until: Option<DateTime<Utc>>,
}

/// The breakers of every tenant.
#[derive(Debug)]
pub(crate) struct Breakers {
    threshold: u32,
    cooldown: TimeDelta,
    circuits: Mutex<HashMap<TenantId, Circuit>>,
}

impl Breakers {
    pub(crate) fn new(threshold: u32, cooldown: std::time::Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown: TimeDelta::from_std(cooldown).unwrap_or(TimeDelta::seconds(30)),
            circuits: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a provider call for `tenant` may go out at `now`. When a cooldown has just
    /// ended, the first caller gets through and the circuit stays open for the others until
    /// that call reports back (or another cooldown passes).
    pub(crate) fn allow(&self, tenant: &TenantId, now: DateTime<Utc>) -> bool {
        let mut circuits = self.circuits.lock().unwrap_or_else(PoisonError::into_inner);
        let circuit = circuits.entry(tenant.clone()).or_default();
        match circuit.open_until {
            None => true,
            Some(until) if now >= until => {
                circuit.open_until = Some(now + self.cooldown); // half-open: one probe
                true
            }
            Some(_) => false,
        }
    }

    /// Reports a call's outcome: `outage` for failures that say the provider is unwell.
    pub(crate) fn record(&self, tenant: &TenantId, outage: bool, now: DateTime<Utc>) {
        let mut circuits = self.circuits.lock().unwrap_or_else(PoisonError::into_inner);
        let circuit = circuits.entry(tenant.clone()).or_default();
        if outage {
            circuit.failures = circuit.failures.saturating_add(1);
            if circuit.failures >= self.threshold {
                circuit.open_until = Some(now + self.cooldown);
                tracing::warn!(
                    target: crate::SECURITY_TARGET,
                    tenant = tenant.as_str(),
                    failures = circuit.failures,
                    "provider circuit opened"
                );
            }
        } else {
            *circuit = Circuit::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_probes_after_the_cooldown_and_closes_on_success() {
        let breakers = Breakers::new(3, std::time::Duration::from_secs(30));
        let a = TenantId::parse("acme").unwrap();
        let b = TenantId::parse("bolt").unwrap();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        for _ in 0..3 {
            assert!(breakers.allow(&a, t0));
            breakers.record(&a, true, t0);
        }
        assert!(!breakers.allow(&a, t0), "open after 3 outages");
        assert!(breakers.allow(&b, t0), "another tenant is unaffected");
        let later = t0 + TimeDelta::seconds(30);
        assert!(breakers.allow(&a, later), "one probe after the cooldown");
        assert!(!breakers.allow(&a, later), "only one");
        breakers.record(&a, false, later);
        assert!(breakers.allow(&a, later), "closed by the probe's success");
    }
}
