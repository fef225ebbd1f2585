//! The Janrain side of a tenant moving to Auth0 behind a circuit of its own
//! ([`SourceCircuit`]), so that a Janrain outage holds only the resets that need Janrain
//! (issue 19).

use std::sync::Arc;

use passgate_idp::{IdentityProvider, IdpError};
use passgate_tenant::TenantId;

use crate::{
    breaker::Breakers,
    clock::Clock,
    gate::{CallGate, Gated},
};

/// The source (Janrain) side of a moving tenant behind its own circuit: while Janrain is out
/// the resets that need it are held ([`IdpError::SourceUnavailable`], retried later) and the
/// ones Auth0 alone can serve go on. An ambiguous write stays ambiguous (the engine verifies
/// it); it still counts as an outage here.
#[derive(Debug)]
pub(crate) struct SourceCircuit {
    tenant: TenantId,
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
}

/// `client` (the Janrain server-side client of `tenant`'s move) behind its circuit.
pub(crate) fn source_guarded(
    client: Arc<dyn IdentityProvider>,
    tenant: TenantId,
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
) -> Gated<SourceCircuit> {
    Gated::new(
        client,
        SourceCircuit {
            tenant,
            breakers,
            clock,
        },
    )
}

impl CallGate for SourceCircuit {
    fn before(&self) -> Result<(), IdpError> {
        if self.breakers.allow(&self.tenant, self.clock.now()) {
            return Ok(());
        }
        Err(IdpError::SourceUnavailable {
            reason: "its circuit is open after repeated outages".into(),
        })
    }

    fn after<T>(&self, result: Result<T, IdpError>) -> Result<T, IdpError> {
        let outage = result
            .as_ref()
            .err()
            .is_some_and(|err| err.is_retryable() || err.is_ambiguous());
        self.breakers.record(&self.tenant, outage, self.clock.now());
        result.map_err(|err| match err {
            err if err.is_retryable() => IdpError::SourceUnavailable {
                reason: err.to_string(),
            },
            err => err,
        })
    }
}
