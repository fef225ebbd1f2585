//! The durable job worker: the part of a reset request that happens after the answer. A job
//! row is claimed under a lease (a crashed worker's job comes back), then the tenant's
//! strategy looks the account up at the provider, issues the token or code, and queues the
//! mail. Provider outages are retried with jittered exponential backoff, never past the
//! token lifetime; the submitted email is sealed in the job row and nowhere else.

use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, TimeDelta, Utc};
use passgate_store::{EncryptedBlob, FinishedJob, Job, JobRepo, NewJob, Store};
use passgate_tenant::{ClientId, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Notify;

use crate::{
    at_rest::open_blob,
    audit::{self, Audit, AuditRecord, action},
    clock::Clock,
    email_address::SubmittedEmail,
    error::EngineError,
    group_commit::{GroupCommit, group_commit},
    sealing::Keyring,
    secret_token::FlowId,
    settings::{self, WorkerSettings},
    settle,
    staged_writes::StagedWrites,
    strategy::{self, IssueRequest, Issuer},
    tenants::TenantDirectory,
};

/// What one job round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobRound {
    /// Jobs finished.
    pub done: u32,
    /// Jobs put back for a later attempt.
    pub retried: u32,
    /// Jobs given up.
    pub failed: u32,
}

impl JobRound {
    /// Whether the round claimed anything.
    pub fn is_idle(&self) -> bool {
        self.done + self.retried + self.failed == 0
    }
}

/// What happened to one claimed job.
enum JobOutcome {
    /// Ran to its end; its writes are committed.
    Done,
    Retried,
    Failed,
}

/// The durable job queue and its worker: what they need to store, claim, open and run
/// reset-request jobs.
#[derive(Debug, Clone)]
pub(crate) struct JobQueue {
    store: Store,
    /// Seals the submitted email into the job row, and opens it in the worker.
    keyring: Keyring,
    clock: Arc<dyn Clock>,
    /// The worker re-resolves the tenant: it may have moved since the request.
    tenants: Arc<dyn TenantDirectory>,
    audit: Audit,
    /// Batch, lease, attempts and backoff.
    worker: WorkerSettings,
    /// Rung by every submit so an idle worker claims at once instead of after its poll.
    wake: Arc<Notify>,
}

/// The `kind` of reset-request jobs.
pub(crate) const JOB_KIND_REQUEST: &str = "reset-request";

/// What the request step decided without looking at the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Look the account up and issue.
    Proceed,
    /// A limit was full: record it, do nothing else.
    RateLimited(String),
    /// The email failed the strict grammar: record it, do nothing else.
    MalformedEmail,
}

/// A sealed value in a JSON payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SealedField {
    key_id: String,
    nonce: String,
    ciphertext: String,
}

/// The payload of a reset-request job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RequestJob {
    pub(crate) flow_id: String,
    pub(crate) verdict: Verdict,
    /// The submitted email, sealed to this tenant and flow.
    pub(crate) email: Option<SealedField>,
    pub(crate) locale: String,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) request_id: String,
    pub(crate) requested_at: DateTime<Utc>,
}

fn email_context(tenant: &TenantId, flow_id: &str) -> String {
    format!("job-email:{}:{flow_id}", tenant.as_str())
}

impl JobQueue {
    pub(crate) fn new(
        store: Store,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
        tenants: Arc<dyn TenantDirectory>,
        audit: Audit,
        worker: WorkerSettings,
    ) -> Self {
        Self {
            store,
            keyring,
            clock,
            tenants,
            audit,
            worker,
            wake: Arc::new(Notify::new()),
        }
    }

    /// What the worker waits on between rounds: rung by every submit in this process.
    pub(crate) fn wake(&self) -> &Notify {
        &self.wake
    }

    /// Whether `round` used the whole batch, so more may be due right now.
    pub(crate) fn was_full(&self, round: &JobRound) -> bool {
        round.done + round.retried + round.failed >= self.worker.batch
    }

    /// `job` for `client` of `tenant` as a row to queue, due now.
    pub(crate) fn row(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        job: &RequestJob,
    ) -> Result<NewJob, EngineError> {
        let payload = serde_json::to_string(job).map_err(|e| EngineError::Corrupt {
            what: "job payload",
            reason: e.to_string(),
        })?;
        let now = self.clock.now();
        Ok(NewJob {
            tenant_id: tenant.clone(),
            client_id: client.clone(),
            kind: JOB_KIND_REQUEST.into(),
            payload,
            run_after: now,
            created_at: now,
        })
    }

    /// Wakes this process's job worker for a row queued (and announced to other replicas)
    /// elsewhere, e.g. by a request's admission.
    pub(crate) fn queued(&self) {
        // A permit is kept when no worker waits, so a row queued during a round is not lost.
        self.wake.notify_one();
    }

    /// Seals the submitted email for the job row.
    pub(crate) fn seal_email(
        &self,
        tenant: &TenantId,
        flow_id: &FlowId,
        email: &SubmittedEmail,
    ) -> Result<SealedField, EngineError> {
        let sealed = self.keyring.seal(
            email.lookup_key().as_bytes(),
            &email_context(tenant, flow_id.as_str()),
        )?;
        Ok(SealedField {
            key_id: sealed.key_id.as_str().to_owned(),
            nonce: STANDARD.encode(sealed.nonce),
            ciphertext: STANDARD.encode(sealed.ciphertext),
        })
    }

    fn open_email(
        &self,
        tenant: &TenantId,
        job: &RequestJob,
    ) -> Result<SubmittedEmail, EngineError> {
        let corrupt = |reason: &str| EngineError::Corrupt {
            what: "job email",
            reason: reason.into(),
        };
        let field = job.email.as_ref().ok_or_else(|| corrupt("missing"))?;
        let blob = EncryptedBlob {
            key_id: field.key_id.clone(),
            nonce: STANDARD
                .decode(&field.nonce)
                .map_err(|_| corrupt("nonce"))?,
            ciphertext: STANDARD
                .decode(&field.ciphertext)
                .map_err(|_| corrupt("ciphertext"))?,
        };
        let plain = open_blob(&self.keyring, &blob, &email_context(tenant, &job.flow_id))?;
        let text = String::from_utf8(plain).map_err(|_| corrupt("not UTF-8"))?;
        SubmittedEmail::parse(&text).ok_or_else(|| corrupt("grammar"))
    }

    /// Claims and runs one batch of due jobs. The jobs of a batch run concurrently, so one
    /// tenant's provider hanging until its timeout never holds another tenant's lookups; the
    /// jobs that finish together commit together, in one transaction ([`group_commit`]).
    pub(crate) async fn run_round(&self, issuer: &Issuer<'_>) -> Result<JobRound, EngineError> {
        let settings = self.worker;
        let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::seconds(60));
        let claimed = self
            .store
            .claim_jobs(self.clock.now(), lease, settings.batch)
            .await?;
        let settle_by = settle::deadline(tokio::time::Instant::now(), settings.lease);
        let (finish, committer) =
            group_commit(|jobs: Vec<FinishedJob>| self.commit(issuer, jobs, settle_by));
        let jobs = futures::future::join_all(
            claimed
                .iter()
                .map(|job| self.run_claimed(issuer, job, finish.clone())),
        );
        drop(finish);
        let (outcomes, ()) = tokio::join!(jobs, committer);
        let mut round = JobRound::default();
        let mut first_error = None;
        for outcome in outcomes {
            match outcome {
                Ok(JobOutcome::Done) => round.done += 1,
                Ok(JobOutcome::Retried) => round.retried += 1,
                Ok(JobOutcome::Failed) => round.failed += 1,
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(round),
        }
    }

    /// Commits finished jobs with their writes, together; if that cannot land, each on its
    /// own, so one job's bad row never holds the others. One result per job, in order.
    async fn commit(
        &self,
        issuer: &Issuer<'_>,
        finished: Vec<FinishedJob>,
        settle_by: tokio::time::Instant,
    ) -> Vec<Result<(), EngineError>> {
        // Their provider calls happened: a lost commit would run them again after the lease.
        let together = settle::settle(settle_by, || {
            self.store.finish_jobs(finished.clone(), self.clock.now())
        })
        .await;
        let results = match together {
            Ok(()) => finished.iter().map(|_| Ok(())).collect(),
            Err(err) if finished.len() == 1 => vec![Err(EngineError::from(err))],
            Err(_) => {
                let mut results = Vec::with_capacity(finished.len());
                for job in &finished {
                    let alone = self
                        .store
                        .finish_jobs(vec![job.clone()], self.clock.now())
                        .await;
                    if let Err(err) = &alone {
                        tracing::warn!(job = %job.id, error = %err, "finished job not recorded");
                    }
                    results.push(alone.map_err(EngineError::from));
                }
                results
            }
        };
        let mut mailed = false;
        for (job, result) in finished.iter().zip(&results) {
            if result.is_ok() {
                job.writes.audit.iter().for_each(audit::log);
                mailed |= !job.writes.mails.is_empty();
            }
        }
        if mailed {
            issuer.outbox.mail_queued();
        }
        results
    }

    /// Runs one claimed job: done (its writes committed through `finish`), or recorded as
    /// to retry later or given up (its staged writes dropped).
    async fn run_claimed(
        &self,
        issuer: &Issuer<'_>,
        job: &Job,
        finish: GroupCommit<FinishedJob, Result<(), EngineError>>,
    ) -> Result<JobOutcome, EngineError> {
        let settings = self.worker;
        let writes = StagedWrites::default();
        match self.run_job(issuer, job, &writes).await {
            Ok(()) => {
                let finished = FinishedJob {
                    id: job.id,
                    writes: writes.into_writes(),
                };
                match finish.commit(finished).await {
                    Ok(Ok(())) => Ok(JobOutcome::Done),
                    Ok(Err(err)) => Err(err),
                    Err(_) => Err(EngineError::Unrecorded("the committer stopped".into())),
                }
            }
            Err(err) if err.is_retryable() && job.attempts < settings.max_attempts => {
                let delay = settings.backoff(job.attempts, settings::jitter());
                let next =
                    self.clock.now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(60));
                self.store.retry_job(job.id, &err.to_string(), next).await?;
                Ok(JobOutcome::Retried)
            }
            Err(err) => {
                tracing::warn!(job = %job.id, error = %err, "reset job given up");
                self.store
                    .fail_job(job.id, &err.to_string(), self.clock.now())
                    .await?;
                self.audit
                    .record(AuditRecord {
                        tenant: Some(&job.tenant_id),
                        client: Some(&job.client_id),
                        actor: "system".into(),
                        action: action::ISSUED,
                        outcome: "failed".into(),
                        request_id: None,
                        details: json!({ "job": job.id.0, "error": err.to_string() }),
                    })
                    .await;
                Ok(JobOutcome::Failed)
            }
        }
    }

    async fn run_job(
        &self,
        issuer: &Issuer<'_>,
        job: &Job,
        writes: &StagedWrites,
    ) -> Result<(), EngineError> {
        if job.kind != JOB_KIND_REQUEST {
            return Err(EngineError::Corrupt {
                what: "job kind",
                reason: job.kind.clone(),
            });
        }
        let payload: RequestJob =
            serde_json::from_str(&job.payload).map_err(|e| EngineError::Corrupt {
                what: "job payload",
                reason: e.to_string(),
            })?;
        let record = |outcome: String, details: serde_json::Value| AuditRecord {
            tenant: Some(&job.tenant_id),
            client: Some(&job.client_id),
            actor: "system".into(),
            action: action::REQUESTED,
            outcome,
            request_id: Some(&payload.request_id),
            details,
        };
        match &payload.verdict {
            Verdict::RateLimited(bucket) => {
                let mut event = record(format!("rate_limited:{bucket}"), json!({}));
                event.action = action::RATE_LIMITED;
                writes.audit(self.audit.event(event));
                return Ok(());
            }
            Verdict::MalformedEmail => {
                writes.audit(
                    self.audit
                        .event(record("malformed_email".into(), json!({}))),
                );
                return Ok(());
            }
            Verdict::Proceed => {}
        }
        let Some(tenant) = self.tenants.by_client(&job.client_id).await? else {
            writes.audit(self.audit.event(record("tenant_gone".into(), json!({}))));
            return Ok(());
        };
        if tenant.config.id != job.tenant_id {
            writes.audit(self.audit.event(record("tenant_moved".into(), json!({}))));
            return Ok(());
        }
        // A mail that arrives after its link would have expired helps nobody.
        let ttl = TimeDelta::from_std(tenant.config.reset.token_ttl.duration())
            .unwrap_or(TimeDelta::minutes(30));
        if self.clock.now() > payload.requested_at + ttl {
            writes.audit(
                self.audit
                    .event(record("expired_before_issue".into(), json!({}))),
            );
            return Ok(());
        }
        let email = self.open_email(&job.tenant_id, &payload)?;
        let flow_id = FlowId::parse(&payload.flow_id).ok_or_else(|| EngineError::Corrupt {
            what: "job flow id",
            reason: "shape".into(),
        })?;
        let locale = tenant
            .config
            .locales
            .negotiate(Some(&payload.locale))
            .clone();
        let strategy = strategy::for_tenant(&tenant.config);
        let found_at = std::sync::OnceLock::new();
        let request = IssueRequest {
            tenant: &tenant,
            client: &job.client_id,
            flow_id: &flow_id,
            email: &email,
            locale: &locale,
            redirect_uri: payload.redirect_uri.as_deref(),
            request_id: &payload.request_id,
            found_at: &found_at,
            writes,
        };
        // The guarded providers check the tenant's circuit and are fed by every call.
        let issued = strategy.issue(issuer, &request).await?;
        let details = match found_at.get() {
            Some(placement) => json!({ "mode": strategy.name(), "placement": placement.as_str() }),
            None => json!({ "mode": strategy.name() }),
        };
        let mut event = record(issued.as_str().to_owned(), details);
        event.action = action::ISSUED;
        writes.audit(self.audit.event(event));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
