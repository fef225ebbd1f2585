//! [`Router`]: client id → [`TenantRuntime`] through a moka cache over a [`RouteSource`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use moka::future::Cache;
use passgate_store::{Backend, RouteRecord, RouteSource, Store, TenantStatus};
use passgate_tenant::{ClientId, TenantId, parse_tenant_yaml_for};
use tokio::task::AbortHandle;

use crate::error::RoutingError;
use crate::runtime::TenantRuntime;

/// Cache settings.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// Longest an entry is served without a reload, whatever else happens (the safety net
    /// behind in-process and `LISTEN/NOTIFY` invalidation).
    pub ttl: Duration,
    /// Most client ids kept.
    pub max_client_ids: u64,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            max_client_ids: 100_000,
        }
    }
}

/// What the cache holds per client id. Disabled tenants are cached too, so a disabled app's
/// traffic does not reach the database on every request.
#[derive(Clone)]
enum Entry {
    Serving(Arc<TenantRuntime>),
    Disabled(TenantId),
}

impl Entry {
    fn tenant(&self) -> &TenantId {
        match self {
            Self::Serving(runtime) => &runtime.tenant_id,
            Self::Disabled(tenant) => tenant,
        }
    }
}

/// Resolves client ids to tenant runtimes. Cheap to clone; clones share one cache.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    source: Arc<dyn RouteSource>,
    by_client: Cache<ClientId, Entry>,
    /// One runtime per tenant and version, shared by its client ids (so a policy script is
    /// compiled once, not once per app).
    by_tenant: Cache<TenantId, Arc<TenantRuntime>>,
    /// Bumped by every invalidation; a load that overlapped one is not trusted (see `resolve`).
    epoch: AtomicU64,
    /// Store reads made on misses (for tests and metrics).
    loads: AtomicU64,
    /// Successful `LISTEN`s (first connect and every reconnect), each followed by a resync.
    listens: AtomicU64,
    /// The PostgreSQL listener task, stopped with the router.
    listener: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("entries", &self.inner.by_client.entry_count())
            .field("loads", &self.loads())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router over any route source, with no automatic invalidation (call
    /// [`Router::invalidate`] yourself). Most callers want [`Router::attach`].
    pub fn new(source: Arc<dyn RouteSource>, options: &RouterOptions) -> Self {
        let by_client = Cache::builder()
            .max_capacity(options.max_client_ids)
            .time_to_live(options.ttl)
            .support_invalidation_closures()
            .build();
        let by_tenant = Cache::builder()
            .max_capacity(options.max_client_ids)
            .time_to_live(options.ttl)
            .build();
        Self {
            inner: Arc::new(Inner {
                source,
                by_client,
                by_tenant,
                epoch: AtomicU64::new(0),
                loads: AtomicU64::new(0),
                listens: AtomicU64::new(0),
                listener: Mutex::new(None),
            }),
        }
    }

    /// A router over `store` that invalidates itself on every write made through that store
    /// (in this process) and, on PostgreSQL, on every write any replica makes (a background
    /// `LISTEN` task; call from within a tokio runtime).
    pub fn attach(store: &Store, options: &RouterOptions) -> Self {
        let router = Self::new(Arc::new(store.clone()), options);
        let weak = Arc::downgrade(&router.inner);
        store.on_tenant_change(Arc::new(move |tenant: &TenantId| {
            if let Some(inner) = weak.upgrade() {
                inner.invalidate(tenant);
            }
        }));
        if store.backend() == Backend::Postgres {
            let pool = store.connection().get_postgres_connection_pool().clone();
            let task = tokio::spawn(crate::listener::run(pool, Arc::downgrade(&router.inner)));
            *router
                .inner
                .listener
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(task.abort_handle());
        }
        router
    }

    /// The tenant runtime for a client id: from the cache, or loaded once (concurrent misses
    /// for the same client id share one load).
    pub async fn resolve(&self, client: &ClientId) -> Result<Arc<TenantRuntime>, RoutingError> {
        let entry = match self.inner.by_client.get(client).await {
            Some(entry) => entry,
            None => self.load(client).await?,
        };
        match entry {
            Entry::Serving(runtime) => Ok(runtime),
            Entry::Disabled(tenant) => Err(RoutingError::Disabled { tenant }),
        }
    }

    async fn load(&self, client: &ClientId) -> Result<Entry, RoutingError> {
        let epoch = self.inner.epoch.load(Ordering::SeqCst);
        let inner = self.inner.clone();
        let key = client.clone();
        let entry = self
            .inner
            .by_client
            .try_get_with(client.clone(), async move { inner.load(&key).await })
            .await
            .map_err(|err| (*err).clone())?;
        // An invalidation between our read of the store and the insert could have been
        // applied before the (stale) entry existed: drop it so the next call reloads.
        if self.inner.epoch.load(Ordering::SeqCst) != epoch {
            self.inner.by_client.invalidate(client).await;
        }
        Ok(entry)
    }

    /// Drops everything cached for a tenant (its client ids and runtime).
    pub fn invalidate(&self, tenant: &TenantId) {
        self.inner.invalidate(tenant);
    }

    /// Drops everything cached.
    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }

    /// How many times a miss read the store.
    pub fn loads(&self) -> u64 {
        self.inner.loads.load(Ordering::SeqCst)
    }

    /// How many times the PostgreSQL listener (re)connected and resynced; 0 on SQLite.
    pub fn listens(&self) -> u64 {
        self.inner.listens.load(Ordering::SeqCst)
    }
}

impl Inner {
    pub(crate) fn invalidate(&self, tenant: &TenantId) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let target = tenant.clone();
        if let Err(err) = self
            .by_client
            .invalidate_entries_if(move |_, entry| *entry.tenant() == target)
        {
            // Only possible if closures were not enabled at build time; fall back to all.
            tracing::warn!(error = %err, "routing: targeted invalidation unavailable");
            self.by_client.invalidate_all();
        }
        // `by_tenant` needs no eager removal: a shared runtime is reused only when its
        // version and hash match the freshly loaded record.
    }

    pub(crate) fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.by_client.invalidate_all();
        self.by_tenant.invalidate_all();
    }

    pub(crate) fn listened(&self) {
        self.listens.fetch_add(1, Ordering::SeqCst);
    }

    async fn load(&self, client: &ClientId) -> Result<Entry, RoutingError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let record = self
            .source
            .load_route(client)
            .await?
            .ok_or_else(|| RoutingError::UnknownClient(client.clone()))?;
        if record.status == TenantStatus::Disabled {
            return Ok(Entry::Disabled(record.tenant_id));
        }
        let runtime = self.runtime(record).await?;
        Ok(Entry::Serving(runtime))
    }

    /// The tenant's runtime for the record's active version: shared if another client id of
    /// the tenant already built it, else validated and compiled off the async threads.
    async fn runtime(&self, record: RouteRecord) -> Result<Arc<TenantRuntime>, RoutingError> {
        let tenant = record.tenant_id;
        let Some(active) = record.active else {
            return Err(RoutingError::NoActiveConfig { tenant });
        };
        if let Some(runtime) = self.by_tenant.get(&tenant).await
            && runtime.version == active.info.version
            && runtime.sha256 == active.info.sha256
        {
            return Ok(runtime);
        }
        let version = active.info.version;
        let sha256 = active.info.sha256;
        let yaml = active.yaml;
        let source = format!("{tenant}@v{version}");
        let owner = tenant.clone();
        let parsed =
            tokio::task::spawn_blocking(move || parse_tenant_yaml_for(&owner, &source, &yaml))
                .await
                .map_err(|_| RoutingError::LoadFailed {
                    tenant: tenant.clone(),
                })?;
        let validated = parsed.map_err(|errors| RoutingError::InvalidConfig {
            tenant: tenant.clone(),
            version,
            errors: Arc::new(errors),
        })?;
        let runtime = Arc::new(TenantRuntime::new(
            tenant.clone(),
            validated.config,
            validated.policy,
            version,
            sha256,
        ));
        self.by_tenant.insert(tenant, runtime.clone()).await;
        Ok(runtime)
    }
}
