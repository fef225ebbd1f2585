//! [`Engine`]: the handle the web layer and the binary hold. It is built from the seams
//! ([`EngineParts`]: store, tenant and provider directories, mail renderer and transport,
//! keys, clock) and holds them as narrow components, each owning only what it needs; every
//! step takes the components it touches. The entry points are [`Engine::request_reset`],
//! [`Engine::view_token`], [`Engine::check_code`], [`Engine::complete_reset`] and the two
//! workers.

use std::{fmt, sync::Arc};

use passgate_store::{Backend, JanrainCodeRepo, QueueChannel, RateLimitRepo, Store, TokenRepo};
use tokio::sync::{Notify, watch};

use crate::{
    audit::Audit,
    breaker::Breakers,
    clock::Clock,
    error::EngineError,
    flow::Aftercare,
    guarded::GuardedProviders,
    history::PasswordHistory,
    jobs::{JobQueue, JobRound},
    mail::MailTransport,
    outbox::{Outbox, OutboxRound},
    providers::ProviderDirectory,
    rate_limit::Limits,
    render::MailRenderer,
    sealing::Keyring,
    secret_token::TokenHasher,
    settings::EngineSettings,
    strategy::{Issuer, janrain::JanrainCodes},
    tenants::TenantDirectory,
    tokens::Tokens,
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

/// The reset engine. Cheap to clone: every component is a handle.
#[derive(Clone)]
pub struct Engine {
    /// Client id → tenant (request, verification, the job worker).
    pub(crate) tenants: Arc<dyn TenantDirectory>,
    /// Tenant → provider client behind its circuit, fed by every call.
    pub(crate) providers: GuardedProviders,
    /// Hosted token and flow rows.
    pub(crate) tokens: Tokens,
    /// The database-backed rate limits.
    pub(crate) limits: Limits,
    /// Users' recent passwords.
    pub(crate) history: PasswordHistory,
    /// Mail templates.
    pub(crate) renderer: Arc<dyn MailRenderer>,
    /// Sealed mail rows and their sender.
    pub(crate) outbox: Outbox,
    /// Reset-request jobs and their worker.
    pub(crate) jobs: JobQueue,
    /// Janrain codes' shared state and per-code locks.
    pub(crate) janrain: JanrainCodes,
    /// The audit trail.
    pub(crate) audit: Audit,
    /// Time (the request step's timestamps).
    pub(crate) clock: Arc<dyn Clock>,
    /// Platform settings.
    pub(crate) settings: Arc<EngineSettings>,
    /// Retention purges across the tables, and listening for other replicas' enqueues.
    store: Store,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("public_base_url", &self.settings.public_base_url)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Assembles an engine. The token-hash key is derived from the active master key
    /// (purpose `token-hash`), so it is never the sealing key itself.
    pub fn new(parts: EngineParts) -> Self {
        let EngineParts {
            store,
            tenants,
            providers,
            renderer,
            transport,
            keyring,
            clock,
            settings,
        } = parts;
        let hasher = TokenHasher::new(keyring.derive("token-hash"));
        let audit = Audit::new(store.clone(), Arc::clone(&clock));
        let breakers = Breakers::new(settings.breaker_threshold, settings.breaker_cooldown);
        Self {
            providers: GuardedProviders::new(providers, breakers, Arc::clone(&clock)),
            tokens: Tokens::new(
                store.clone(),
                hasher.clone(),
                keyring.clone(),
                Arc::clone(&clock),
            ),
            limits: Limits::new(store.clone(), hasher.clone(), Arc::clone(&clock), &settings),
            history: PasswordHistory::new(
                settings.hashing_concurrency,
                store.clone(),
                Arc::clone(&clock),
            ),
            outbox: Outbox::new(
                store.clone(),
                keyring.clone(),
                hasher.clone(),
                Arc::clone(&clock),
                transport,
                audit.clone(),
                &settings,
            ),
            jobs: JobQueue::new(
                store.clone(),
                keyring.clone(),
                Arc::clone(&clock),
                Arc::clone(&tenants),
                audit.clone(),
                settings.jobs,
            ),
            janrain: JanrainCodes::new(store.clone(), hasher, keyring, Arc::clone(&clock)),
            tenants,
            renderer,
            audit,
            clock,
            settings: Arc::new(settings),
            store,
        }
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// What issuing touches.
    pub(crate) fn issuer(&self) -> Issuer<'_> {
        Issuer {
            providers: &self.providers,
            tokens: &self.tokens,
            renderer: self.renderer.as_ref(),
            outbox: &self.outbox,
            settings: &self.settings,
        }
    }

    /// What follows a hosted password change.
    pub(crate) fn aftercare(&self) -> Aftercare<'_> {
        Aftercare {
            history: &self.history,
            renderer: self.renderer.as_ref(),
            outbox: &self.outbox,
            audit: &self.audit,
        }
    }

    /// Runs one round of the job worker (claim due reset jobs, run them). For tests and for
    /// callers that schedule work themselves.
    pub async fn run_jobs_once(&self) -> Result<JobRound, EngineError> {
        self.jobs.run_round(&self.issuer()).await
    }

    /// Runs one round of the outbox worker (claim due mails, send them).
    pub async fn run_outbox_once(&self) -> Result<OutboxRound, EngineError> {
        self.outbox.run_round().await
    }

    /// Deletes what is no longer needed (item 55): token rows and Janrain code rows that
    /// expired more than `retention` ago, and finished rate-limit windows. Returns the rows removed.
    pub async fn purge_expired(&self, retention: chrono::TimeDelta) -> Result<u64, EngineError> {
        let now = self.clock.now();
        let tokens = self.store.purge_tokens(now - retention).await?;
        let windows = self.store.purge_windows(now).await?;
        let codes = self.store.purge_janrain_codes(now - retention).await?;
        Ok(tokens + windows + codes)
    }

    /// The job worker: rounds until `shutdown` turns `true`. A full batch claims again at
    /// once; otherwise it waits for a submit in this process, a job another replica
    /// announced (PostgreSQL `LISTEN`), or, as the fallback (retries that come due, a lost
    /// listener), the poll interval. Stops after the item in hand;
    /// unfinished claims come back when their lease ends.
    /// It runs [`crate::settings::WorkerSettings::lanes`] loops of rounds at once, each its
    /// own task, on PostgreSQL; one on SQLite, whose single writer lanes would only queue on.
    pub async fn run_job_worker(&self, shutdown: watch::Receiver<bool>) {
        let lanes = match self.store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => self.settings.jobs.lanes,
        };
        let extra: Vec<_> = (1..lanes)
            .map(|_| {
                let (engine, shutdown) = (self.clone(), shutdown.clone());
                tokio::spawn(async move { engine.job_rounds(shutdown).await })
            })
            .collect();
        // The listener never ends: the worker stops when its rounds do.
        tokio::select! {
            () = self.job_rounds(shutdown) => {}
            () = self.listen_for_other_replicas() => {}
        }
        for lane in extra {
            if let Err(err) = lane.await {
                tracing::warn!(error = %err, "a job worker lane failed");
            }
        }
    }

    /// One lane of the job worker: rounds until shutdown.
    async fn job_rounds(&self, shutdown: watch::Receiver<bool>) {
        let poll = self.settings.jobs.poll_interval;
        worker_loop("jobs", poll, self.jobs.wake(), shutdown, || async {
            self.run_jobs_once().await.map(|r| self.jobs.was_full(&r))
        })
        .await;
    }

    /// Wakes this replica's workers for what other replicas queue (PostgreSQL `LISTEN`, one
    /// connection for both queues, run by the job worker); never returns.
    async fn listen_for_other_replicas(&self) {
        let woken = |queue: QueueChannel| match queue {
            QueueChannel::Jobs => self.jobs.wake().notify_one(),
            QueueChannel::Mail => self.outbox.wake().notify_one(),
        };
        self.store
            .listen(&[QueueChannel::Jobs, QueueChannel::Mail], &woken)
            .await;
    }

    /// The outbox worker, like [`Engine::run_job_worker`]; woken by every queued mail (the
    /// job worker listens for other replicas' mails).
    pub async fn run_outbox_worker(&self, shutdown: watch::Receiver<bool>) {
        let poll = self.settings.outbox.poll_interval;
        let rounds = worker_loop("outbox", poll, self.outbox.wake(), shutdown, || async {
            self.run_outbox_once()
                .await
                .map(|r| self.outbox.was_full(&r))
        });
        rounds.await;
    }
}

/// Runs `round` (which answers whether its batch was full) until shutdown. After a full
/// batch it goes again at once; after a partial one it waits for `wake` or `poll`; after a
/// failed one only for `poll`, so an outage is not retried in a hot loop.
async fn worker_loop<F, Fut>(
    name: &'static str,
    poll: std::time::Duration,
    wake: &Notify,
    mut shutdown: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, EngineError>>,
{
    while !*shutdown.borrow() {
        let woken = match round().await {
            Ok(true) => continue,
            Ok(false) => wake.notified(),
            Err(err) => {
                tracing::warn!(worker = name, error = %err, "worker round failed");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
                continue;
            }
        };
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(poll) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!(worker = name, "worker stopped");
}
