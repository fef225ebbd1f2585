//! The routing crate's error type.

use std::sync::Arc;

use passgate_store::StoreError;
use passgate_tenant::{ClientId, ConfigErrors, TenantId};

/// Why a client id does not resolve to a serving tenant. `Display` names ids only, never
/// config contents; the web layer maps `UnknownClient` and `Disabled` to a neutral 404.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RoutingError {
    /// No tenant has this client id.
    #[error("unknown client id {0}")]
    UnknownClient(ClientId),
    /// The tenant exists but is disabled.
    #[error("tenant {tenant} is disabled")]
    Disabled {
        /// The disabled tenant.
        tenant: TenantId,
    },
    /// The tenant has no active config version yet.
    #[error("tenant {tenant} has no active configuration")]
    NoActiveConfig {
        /// The tenant.
        tenant: TenantId,
    },
    /// The stored active config no longer validates (e.g. platform bounds tightened).
    #[error("tenant {tenant} configuration version {version} is invalid")]
    InvalidConfig {
        /// The tenant.
        tenant: TenantId,
        /// The stored version that failed.
        version: u32,
        /// Every problem found.
        errors: Arc<ConfigErrors>,
    },
    /// The database failed.
    #[error("store: {0}")]
    Store(Arc<StoreError>),
    /// Validating the config panicked or was cancelled (a bug, reported rather than hung).
    #[error("loading tenant {tenant} failed unexpectedly")]
    LoadFailed {
        /// The tenant being loaded.
        tenant: TenantId,
    },
}

impl From<StoreError> for RoutingError {
    fn from(err: StoreError) -> Self {
        Self::Store(Arc::new(err))
    }
}
