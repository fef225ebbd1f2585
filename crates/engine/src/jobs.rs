//! The durable job worker: the part of a reset request that happens after the answer. A job
//! row is claimed under a lease (a crashed worker's job comes back), then the tenant's
//! strategy looks the account up at the provider, issues the token or code, and queues the
//! mail. Provider outages are retried with jittered exponential backoff, never past the
//! token lifetime; the submitted email is sealed in the job row and nowhere else.

use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, TimeDelta, Utc};
use passgate_store::{EncryptedBlob, Job, JobRepo};
use passgate_tenant::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    audit::{AuditRecord, action},
    email_address::SubmittedEmail,
    engine::Inner,
    error::EngineError,
    outbox::rand_fraction,
    providers::open_blob,
    secret_token::FlowId,
    settle,
    strategy::{self, IssueRequest},
};

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

/// Seals the submitted email for the job row.
pub(crate) fn seal_email(
    inner: &Inner,
    tenant: &TenantId,
    flow_id: &FlowId,
    email: &SubmittedEmail,
) -> Result<SealedField, EngineError> {
    let sealed = inner.keyring.seal(
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
    inner: &Inner,
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
    let plain = open_blob(&inner.keyring, &blob, &email_context(tenant, &job.flow_id))?;
    let text = String::from_utf8(plain).map_err(|_| corrupt("not UTF-8"))?;
    SubmittedEmail::parse(&text).ok_or_else(|| corrupt("grammar"))
}

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
    Done,
    Retried,
    Failed,
}

/// Claims and runs one batch of due jobs. The jobs of a batch run concurrently, so one
/// tenant's provider hanging until its timeout never holds another tenant's lookups.
pub(crate) async fn run_round(inner: &Arc<Inner>) -> Result<JobRound, EngineError> {
    let settings = inner.settings.jobs;
    let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::seconds(60));
    let claimed = inner
        .store
        .claim_jobs(inner.clock.now(), lease, settings.batch)
        .await?;
    let settle_by = settle::deadline(tokio::time::Instant::now(), settings.lease);
    let outcomes =
        futures::future::join_all(claimed.iter().map(|job| run_claimed(inner, job, settle_by)))
            .await;
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

/// Runs one claimed job and records its outcome (done, retry later, or given up).
async fn run_claimed(
    inner: &Inner,
    job: &Job,
    settle_by: tokio::time::Instant,
) -> Result<JobOutcome, EngineError> {
    let settings = inner.settings.jobs;
    match run_job(inner, job).await {
        Ok(()) => {
            // Its token and mail are queued: a lost "done" mark would issue them again.
            settle::settle(settle_by, || {
                inner.store.complete_job(job.id, inner.clock.now())
            })
            .await?;
            Ok(JobOutcome::Done)
        }
        Err(err) if err.is_retryable() && job.attempts < settings.max_attempts => {
            let delay = settings.backoff(job.attempts, rand_fraction());
            let next =
                inner.clock.now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(60));
            inner
                .store
                .retry_job(job.id, &err.to_string(), next)
                .await?;
            Ok(JobOutcome::Retried)
        }
        Err(err) => {
            tracing::warn!(job = %job.id, error = %err, "reset job given up");
            inner
                .store
                .fail_job(job.id, &err.to_string(), inner.clock.now())
                .await?;
            inner
                .audit
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

async fn run_job(inner: &Inner, job: &Job) -> Result<(), EngineError> {
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
            inner.audit.record(event).await;
            return Ok(());
        }
        Verdict::MalformedEmail => {
            inner
                .audit
                .record(record("malformed_email".into(), json!({})))
                .await;
            return Ok(());
        }
        Verdict::Proceed => {}
    }
    let Some(tenant) = inner.tenants.by_client(&job.client_id).await? else {
        inner
            .audit
            .record(record("tenant_gone".into(), json!({})))
            .await;
        return Ok(());
    };
    if tenant.config.id != job.tenant_id {
        inner
            .audit
            .record(record("tenant_moved".into(), json!({})))
            .await;
        return Ok(());
    }
    // A mail that arrives after its link would have expired helps nobody.
    let ttl = TimeDelta::from_std(tenant.config.reset.token_ttl.duration())
        .unwrap_or(TimeDelta::minutes(30));
    if inner.clock.now() > payload.requested_at + ttl {
        inner
            .audit
            .record(record("expired_before_issue".into(), json!({})))
            .await;
        return Ok(());
    }
    let email = open_email(inner, &job.tenant_id, &payload)?;
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
    let request = IssueRequest {
        tenant: &tenant,
        client: &job.client_id,
        flow_id: &flow_id,
        email: &email,
        locale: &locale,
        redirect_uri: payload.redirect_uri.as_deref(),
        request_id: &payload.request_id,
    };
    if !inner.provider_allowed(&job.tenant_id) {
        return Err(EngineError::CircuitOpen(job.tenant_id.as_str().to_owned()));
    }
    let result = strategy.issue(inner, &request).await;
    let outage = matches!(&result, Err(EngineError::Provider(err)) if err.is_retryable() || err.is_ambiguous());
    inner
        .breakers
        .record(&job.tenant_id, outage, inner.clock.now());
    let issued = result?;
    let mut event = record(
        issued.as_str().to_owned(),
        json!({ "mode": strategy.name() }),
    );
    event.action = action::ISSUED;
    inner.audit.record(event).await;
    Ok(())
}
