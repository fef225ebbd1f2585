//! [`Engine`]: the handle the web layer and the binary hold. It owns the seams (store, tenant
//! and provider directories, mail renderer and transport, keys, clock) and exposes the four
//! entry points: [`Engine::request_reset`], [`Engine::view_token`], [`Engine::complete_reset`]
//! and the two workers.

use std::{fmt, sync::Arc};

use passgate_store::Store;
use tokio::sync::watch;

use passgate_idp::IdpError;
use passgate_tenant::TenantId;

use crate::{
    audit::Audit,
    breaker::Breakers,
    clock::Clock,
    error::EngineError,
    history::PasswordHistory,
    jobs::{self, JobRound},
    mail::MailTransport,
    outbox::{self, OutboxRound},
    providers::ProviderDirectory,
    render::MailRenderer,
    sealing::Keyring,
    secret_token::TokenHasher,
    settings::EngineSettings,
    tenants::TenantDirectory,
};

/// Everything the engine is built from.
#[allow(missing_debug_implementations)] // holds trait objects and keys; `Engine` is Debug
pub struct EngineParts {
    /// The database.
    pub store: Store,
    /// Client id → tenant.
    pub tenants: Arc<dyn TenantDirectory>,
    /// Tenant → provider client.
    pub providers: Arc<dyn ProviderDirectory>,
    /// Mail templates.
    pub renderer: Arc<dyn MailRenderer>,
    /// Where mail goes (SMTP, or the dev mailbox).
    pub transport: Arc<dyn MailTransport>,
    /// Master keys: outbox sealing, and (derived) the token-hash key.
    pub keyring: Keyring,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Platform settings.
    pub settings: EngineSettings,
}

/// Shared state of one engine (behind an `Arc`).
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) tenants: Arc<dyn TenantDirectory>,
    pub(crate) providers: Arc<dyn ProviderDirectory>,
    pub(crate) renderer: Arc<dyn MailRenderer>,
    pub(crate) transport: Arc<dyn MailTransport>,
    pub(crate) keyring: Keyring,
    pub(crate) hasher: TokenHasher,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<EngineSettings>,
    pub(crate) history: PasswordHistory,
    pub(crate) audit: Audit,
    pub(crate) janrain_codes: crate::strategy::janrain::JanrainCodes,
    pub(crate) breakers: Breakers,
}

impl Inner {
    /// Whether `tenant`'s provider circuit lets a call through now.
    pub(crate) fn provider_allowed(&self, tenant: &TenantId) -> bool {
        self.breakers.allow(tenant, self.clock.now())
    }

    /// Feeds a provider call's outcome to `tenant`'s circuit.
    pub(crate) fn provider_outcome<T>(&self, tenant: &TenantId, result: &Result<T, IdpError>) {
        let outage = matches!(result, Err(err) if err.is_retryable() || err.is_ambiguous());
        self.breakers.record(tenant, outage, self.clock.now());
    }
}

/// The reset engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("public_base_url", &self.inner.settings.public_base_url)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Assembles an engine. The token-hash key is derived from the active master key
    /// (purpose `token-hash`), so it is never the sealing key itself.
    pub fn new(parts: EngineParts) -> Self {
        let hasher = TokenHasher::new(parts.keyring.derive("token-hash"));
        let history = PasswordHistory::new(parts.settings.hashing_concurrency);
        let audit = Audit::new(parts.store.clone(), Arc::clone(&parts.clock));
        let breakers = Breakers::new(
            parts.settings.breaker_threshold,
            parts.settings.breaker_cooldown,
        );
        Self {
            inner: Arc::new(Inner {
                store: parts.store,
                tenants: parts.tenants,
                providers: parts.providers,
                renderer: parts.renderer,
                transport: parts.transport,
                keyring: parts.keyring,
                hasher,
                clock: parts.clock,
                settings: Arc::new(parts.settings),
                history,
                audit,
                janrain_codes: crate::strategy::janrain::code_cache(),
                breakers,
            }),
        }
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// Runs one round of the job worker (claim due reset jobs, run them). For tests and for
    /// callers that schedule work themselves.
    pub async fn run_jobs_once(&self) -> Result<JobRound, EngineError> {
        jobs::run_round(&self.inner).await
    }

    /// Runs one round of the outbox worker (claim due mails, send them).
    pub async fn run_outbox_once(&self) -> Result<OutboxRound, EngineError> {
        outbox::run_round(&self.inner).await
    }

    /// Deletes what is no longer needed (item 55): token rows and Janrain code rows that
    /// expired more than `retention` ago, and finished rate-limit windows. Returns the rows removed.
    pub async fn purge_expired(&self, retention: chrono::TimeDelta) -> Result<u64, EngineError> {
        use passgate_store::{JanrainCodeRepo, RateLimitRepo, TokenRepo};
        let now = self.inner.clock.now();
        let tokens = self.inner.store.purge_tokens(now - retention).await?;
        let windows = self.inner.store.purge_windows(now).await?;
        let codes = self
            .inner
            .store
            .purge_janrain_codes(now - retention)
            .await?;
        Ok(tokens + windows + codes)
    }

    /// The job worker: rounds until `shutdown` turns `true`, sleeping the poll interval when
    /// idle. Stops after the item in hand; unfinished claims come back when their lease ends.
    pub async fn run_job_worker(&self, shutdown: watch::Receiver<bool>) {
        let poll = self.inner.settings.jobs.poll_interval;
        worker_loop("jobs", poll, shutdown, || async {
            self.run_jobs_once().await.map(|r| r.is_idle())
        })
        .await;
    }

    /// The outbox worker, like [`Engine::run_job_worker`].
    pub async fn run_outbox_worker(&self, shutdown: watch::Receiver<bool>) {
        let poll = self.inner.settings.outbox.poll_interval;
        worker_loop("outbox", poll, shutdown, || async {
            self.run_outbox_once().await.map(|r| r.is_idle())
        })
        .await;
    }
}

/// Runs `round` until shutdown; sleeps `poll` after an idle or failed round.
async fn worker_loop<F, Fut>(
    name: &'static str,
    poll: std::time::Duration,
    mut shutdown: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, EngineError>>,
{
    while !*shutdown.borrow() {
        let idle = match round().await {
            Ok(idle) => idle,
            Err(err) => {
                tracing::warn!(worker = name, error = %err, "worker round failed");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }
    tracing::info!(worker = name, "worker stopped");
}
