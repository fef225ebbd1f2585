//! [`TenantDirectory`]: how the engine finds a tenant's validated config and compiled policy
//! from a client id. The web layer hands in the routing cache; tests and the demo can use
//! [`StaticTenants`].

use std::{collections::HashMap, fmt, sync::Arc};

use async_trait::async_trait;
use passgate_policy::CompiledPolicy;
use passgate_tenant::{ClientId, TenantConfig, ValidatedTenant};

use crate::error::EngineError;

/// One tenant as the engine uses it: config and policy of one active version.
pub struct ActiveTenant {
    /// The validated configuration.
    pub config: TenantConfig,
    /// Its password policy, compiled once per version.
    pub policy: Arc<CompiledPolicy>,
}

impl fmt::Debug for ActiveTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveTenant")
            .field("tenant", &self.config.id)
            .finish_non_exhaustive()
    }
}

impl From<ValidatedTenant> for ActiveTenant {
    fn from(validated: ValidatedTenant) -> Self {
        Self {
            config: validated.config,
            policy: Arc::new(validated.policy),
        }
    }
}

/// Client id → active tenant. `Ok(None)` for an unknown or disabled client.
#[async_trait]
pub trait TenantDirectory: Send + Sync + fmt::Debug {
    /// The tenant serving `client`.
    async fn by_client(&self, client: &ClientId) -> Result<Option<Arc<ActiveTenant>>, EngineError>;
}

/// A fixed set of tenants held in memory (tests, the demo, `policy check`).
#[derive(Debug, Default, Clone)]
pub struct StaticTenants {
    by_client: HashMap<ClientId, Arc<ActiveTenant>>,
}

impl StaticTenants {
    /// Indexes `tenants` by each of their client ids.
    pub fn new(tenants: impl IntoIterator<Item = ActiveTenant>) -> Self {
        let mut by_client = HashMap::new();
        for tenant in tenants {
            let tenant = Arc::new(tenant);
            for client in &tenant.config.client_ids {
                by_client.insert(client.clone(), Arc::clone(&tenant));
            }
        }
        Self { by_client }
    }
}

#[async_trait]
impl TenantDirectory for StaticTenants {
    async fn by_client(&self, client: &ClientId) -> Result<Option<Arc<ActiveTenant>>, EngineError> {
        Ok(self.by_client.get(client).cloned())
    }
}
