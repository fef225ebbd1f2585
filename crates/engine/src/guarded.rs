//! [`GuardedProviders`]: the provider directory the reset steps use. It checks the tenant's
//! circuit before it hands a client out, and the client it hands out (a [`Gated`] client)
//! feeds the circuit on **every** call — lookups, `set_password`, tickets, mails, Janrain's code
//! redemption and profile update, session revocation — with one outage rule,
//! [`is_outage`]. No step feeds the breaker itself, so no step can forget to.

use std::sync::Arc;

use passgate_idp::{IdentityProvider, IdpError};
use passgate_tenant::{TenantConfig, TenantId};

use crate::{
    breaker::Breakers,
    clock::Clock,
    error::EngineError,
    gate::{CallGate, Gated},
    providers::ProviderDirectory,
};

/// The one outage rule: failures that say the provider is unwell (timeouts, 5xx, refused
/// connections, 429, and ambiguous answers) count towards opening the circuit; every other
/// answer, a refusal included, shows the provider is up and closes it. A moving tenant's
/// source outage ([`IdpError::SourceUnavailable`]) has its own circuit
/// ([`crate::source_guard::SourceCircuit`]):
/// it holds only the resets that need the source, so it does not open the tenant's.
pub(crate) fn is_outage(err: &IdpError) -> bool {
    (err.is_retryable() || err.is_ambiguous()) && !matches!(err, IdpError::SourceUnavailable { .. })
}

/// Tenant → a provider client behind its circuit breaker.
#[derive(Debug, Clone)]
pub(crate) struct GuardedProviders {
    directory: Arc<dyn ProviderDirectory>,
    /// Shared with every handed-out client, which reports to it.
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
}

impl GuardedProviders {
    pub(crate) fn new(
        directory: Arc<dyn ProviderDirectory>,
        breakers: Breakers,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            breakers: Arc::new(breakers),
            clock,
        }
    }

    /// `tenant`'s client, if its circuit lets a call through now
    /// ([`EngineError::CircuitOpen`] otherwise).
    pub(crate) async fn provider(
        &self,
        tenant: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        if !self.breakers.allow(&tenant.id, self.clock.now()) {
            return Err(EngineError::CircuitOpen(tenant.id.as_str().to_owned()));
        }
        let client = self.directory.provider(tenant).await?;
        let circuit = TenantCircuit {
            tenant: tenant.id.clone(),
            breakers: Arc::clone(&self.breakers),
            clock: Arc::clone(&self.clock),
        };
        Ok(Arc::new(Gated::new(client, circuit)))
    }
}

/// A tenant's circuit as a [`CallGate`]: every call's outcome is reported to it (the
/// circuit itself is checked once, on hand-out).
#[derive(Debug)]
pub(crate) struct TenantCircuit {
    tenant: TenantId,
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
}

impl CallGate for TenantCircuit {
    fn before(&self) -> Result<(), IdpError> {
        Ok(())
    }

    fn after<T>(&self, result: Result<T, IdpError>) -> Result<T, IdpError> {
        let outage = result.as_ref().err().is_some_and(is_outage);
        self.breakers.record(&self.tenant, outage, self.clock.now());
        result
    }
}
