//! [`TenantDirectory`]: how the engine finds a tenant's validated config and compiled policy
//! (a [`TenantRuntime`]) from a client id. Production uses the routing cache
//! ([`passgate_routing::Router`], implemented here); tests and the demo can use
//! [`StaticTenants`].

use std::{collections::HashMap, fmt, sync::Arc};

use async_trait::async_trait;
pub use passgate_routing::TenantRuntime;
use passgate_routing::{Router, RoutingError};
use passgate_tenant::{ClientId, ValidatedTenant};

use crate::error::EngineError;

/// Client id → serving tenant. `Ok(None)` for an unknown, disabled or unconfigured client.
#[async_trait]
pub trait TenantDirectory: Send + Sync + fmt::Debug {
    /// The tenant serving `client`.
    async fn by_client(&self, client: &ClientId)
    -> Result<Option<Arc<TenantRuntime>>, EngineError>;
}

#[async_trait]
impl TenantDirectory for Router {
    async fn by_client(
        &self,
        client: &ClientId,
    ) -> Result<Option<Arc<TenantRuntime>>, EngineError> {
        match self.resolve(client).await {
            Ok(runtime) => Ok(Some(runtime)),
            Err(
                RoutingError::UnknownClient(_)
                | RoutingError::Disabled { .. }
                | RoutingError::NoActiveConfig { .. }
                | RoutingError::InvalidConfig { .. },
            ) => Ok(None),
            Err(err) => Err(EngineError::TenantUnavailable(err.to_string())),
        }
    }
}

/// A fixed set of tenants held in memory (tests, the demo).
#[derive(Debug, Default, Clone)]
pub struct StaticTenants {
    by_client: HashMap<ClientId, Arc<TenantRuntime>>,
}

impl StaticTenants {
    /// Indexes validated tenants (as version 1) by each of their client ids.
    pub fn new(tenants: impl IntoIterator<Item = ValidatedTenant>) -> Self {
        Self::from_runtimes(tenants.into_iter().map(|validated| {
            TenantRuntime::new(
                validated.config.id.clone(),
                validated.config,
                validated.policy,
                1,
                String::new(),
            )
        }))
    }

    /// Indexes ready runtimes by each of their client ids.
    pub fn from_runtimes(runtimes: impl IntoIterator<Item = TenantRuntime>) -> Self {
        let mut by_client = HashMap::new();
        for runtime in runtimes {
            let runtime = Arc::new(runtime);
            for client in &runtime.config.client_ids {
                by_client.insert(client.clone(), Arc::clone(&runtime));
            }
        }
        Self { by_client }
    }
}

#[async_trait]
impl TenantDirectory for StaticTenants {
    async fn by_client(
        &self,
        client: &ClientId,
    ) -> Result<Option<Arc<TenantRuntime>>, EngineError> {
        Ok(self.by_client.get(client).cloned())
    }
}
