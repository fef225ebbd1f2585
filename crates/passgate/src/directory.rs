//! [`CountedTenants`]: the routing cache as the engine's and the pages' [`TenantDirectory`],
//! counting lookups so `/metrics` can report the cache hit ratio (the router counts its
//! misses, [`Router::loads`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use passgate_engine::{EngineError, TenantDirectory, TenantRuntime};
use passgate_routing::Router;
use passgate_tenant::ClientId;

/// Client id → tenant through a [`Router`], counted. Cheap to clone; clones share counts.
#[derive(Debug, Clone)]
pub struct CountedTenants {
    router: Router,
    lookups: Arc<AtomicU64>,
}

impl CountedTenants {
    /// A directory over `router`.
    pub fn new(router: Router) -> Self {
        Self {
            router,
            lookups: Arc::default(),
        }
    }

    /// Lookups served so far, and how many of them had to read the database.
    pub fn lookups_and_loads(&self) -> (u64, u64) {
        (self.lookups.load(Ordering::Relaxed), self.router.loads())
    }
}

#[async_trait]
impl TenantDirectory for CountedTenants {
    async fn by_client(
        &self,
        client: &ClientId,
    ) -> Result<Option<Arc<TenantRuntime>>, EngineError> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        self.router.by_client(client).await
    }
}
