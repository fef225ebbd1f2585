//! The mail outbox: rendered mails are sealed (AES-256-GCM, bound to tenant and Message-ID)
//! and stored; a worker claims due mails under a lease, opens them, hands them to the
//! transport, and marks them sent, reschedules them with jittered exponential backoff, or
//! dead-letters them after a bound. At-least-once: a crash between "accepted" and "marked
//! sent" re-sends with the same Message-ID, so the receiving side can drop the duplicate; a
//! database outage there does not (the mark is retried within the lease, see `settle`).

use std::sync::Arc;

use chrono::TimeDelta;
use passgate_store::{MailId, NewAuditEvent, NewMail, OutboxMail, OutboxRepo, QueueChannel, Store};
use passgate_tenant::{TenantConfig, TenantId};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::{
    at_rest::{self, open_blob, seal_blob},
    audit::{self, Audit},
    clock::Clock,
    error::EngineError,
    group_commit::{GroupCommit, group_commit},
    mail::{MailTransport, OutgoingMail, SendError},
    render::RenderedMail,
    sealing::Keyring,
    secret_token::{FlowId, TokenHasher},
    settings::{self, EngineSettings, WorkerSettings},
    settle,
};

/// The outbox: what it needs to seal, store, send and audit mail, and nothing else.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    store: Store,
    /// Seals bodies (bound to tenant and Message-ID).
    keyring: Keyring,
    /// Digests recipients: no outbox row holds an address in clear.
    hasher: TokenHasher,
    clock: Arc<dyn Clock>,
    transport: Arc<dyn MailTransport>,
    audit: Audit,
    /// Batch, lease, attempts and backoff of the worker.
    worker: WorkerSettings,
    /// The sender of tenants that name none.
    default_from: String,
    /// The right-hand side of every Message-ID.
    message_id_domain: String,
    /// Rung by every queued mail so an idle worker sends at once instead of after its poll.
    wake: Arc<Notify>,
}

/// What is sealed: the message as the transport needs it.
#[derive(Serialize, Deserialize)]
struct SealedBody {
    from: String,
    to: String,
    subject: String,
    html: String,
    text: String,
}

/// The associated data of a mail body.
fn body_context(tenant: &TenantId, message_id: &str) -> String {
    format!("outbox:{}:{message_id}", tenant.as_str())
}

/// What one outbox round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxRound {
    /// Mails the transport accepted.
    pub sent: u32,
    /// Mails put back for a later attempt.
    pub retried: u32,
    /// Mails given up.
    pub dead: u32,
}

impl OutboxRound {
    /// Whether the round claimed anything.
    pub fn is_idle(&self) -> bool {
        self.sent + self.retried + self.dead == 0
    }
}

impl Outbox {
    pub(crate) fn new(
        store: Store,
        keyring: Keyring,
        hasher: TokenHasher,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn MailTransport>,
        audit: Audit,
        settings: &EngineSettings,
    ) -> Self {
        Self {
            store,
            keyring,
            hasher,
            clock,
            transport,
            audit,
            worker: settings.outbox,
            default_from: settings.default_from.clone(),
            message_id_domain: settings.message_id_domain.clone(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// What the worker waits on between rounds: rung by every mail queued in this process.
    pub(crate) fn wake(&self) -> &Notify {
        &self.wake
    }

    /// Whether `round` used the whole batch, so more may be due right now.
    pub(crate) fn was_full(&self, round: &OutboxRound) -> bool {
        round.sent + round.retried + round.dead >= self.worker.batch
    }

    /// The sender of a tenant's mails.
    fn sender(&self, tenant: &TenantConfig) -> String {
        match &tenant.email.from {
            Some(mailbox) => match mailbox.name() {
                Some(name) => format!("{name} <{}>", mailbox.address()),
                None => mailbox.address().to_owned(),
            },
            None => self.default_from.clone(),
        }
    }

    /// Seals `mail` to `to` (the address the provider stores) as a row to queue, e.g. with
    /// the rest of a job's writes; [`Outbox::mail_queued`] once it is committed.
    pub(crate) fn seal(
        &self,
        tenant: &TenantConfig,
        to: &str,
        mail: RenderedMail,
    ) -> Result<NewMail, EngineError> {
        // 128 random bits, the same shape as a flow id: unique without a counter, and stable
        // across retries because it is stored with the row.
        let message_id = format!(
            "{}@{}",
            FlowId::generate()?.as_str(),
            self.message_id_domain
        );
        let body = SealedBody {
            from: self.sender(tenant),
            to: to.to_owned(),
            subject: mail.subject,
            html: mail.html,
            text: mail.text,
        };
        let plain = serde_json::to_vec(&body).map_err(|e| EngineError::Corrupt {
            what: "mail body",
            reason: e.to_string(),
        })?;
        let body = seal_blob(
            &self.keyring,
            &plain,
            &body_context(&tenant.id, &message_id),
        )?;
        Ok(NewMail {
            tenant_id: tenant.id.clone(),
            message_id,
            recipient: at_rest::recipient_digest(&self.hasher, to),
            body,
            created_at: self.clock.now(),
        })
    }

    /// Seals and queues `mail` to `to` on its own. Returns the row id.
    pub(crate) async fn queue(
        &self,
        tenant: &TenantConfig,
        to: &str,
        mail: RenderedMail,
    ) -> Result<MailId, EngineError> {
        let row = self.seal(tenant, to, mail)?;
        let id = self.store.enqueue_mail(row).await?;
        // Other replicas' workers; if this fails they find the row at their next poll.
        if let Err(err) = self.store.announce(QueueChannel::Mail).await {
            tracing::warn!(error = %err, "could not announce the queued row to other replicas");
        }
        self.mail_queued();
        Ok(id)
    }

    /// Wakes this process's worker for mail committed elsewhere (a job's writes, which
    /// announce it to other replicas themselves).
    pub(crate) fn mail_queued(&self) {
        // A permit is kept when no worker waits, so a mail queued during a round is not lost.
        self.wake.notify_one();
    }

    /// Claims and sends one batch of due mails, as many at once as the transport allows
    /// (the SMTP transport: one per pooled connection). One recipient's mails go one after
    /// the other, oldest first, so a user gets them in the order they were queued.
    pub(crate) async fn run_round(&self) -> Result<OutboxRound, EngineError> {
        use futures::StreamExt as _;

        let settings = self.worker;
        let now = self.clock.now();
        let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::seconds(60));
        let claimed = self.store.claim_mail(now, lease, settings.batch).await?;
        let settle_by = settle::deadline(tokio::time::Instant::now(), settings.lease);
        // The mails the relay accepted together are marked together, with their audit events.
        let (mark, committer) = group_commit(|sent: Vec<SentMail>| self.mark_sent(sent, settle_by));
        // By value: a stream of borrowed rows makes the worker's future not `Send`.
        let marks: Vec<_> = per_recipient(claimed)
            .into_iter()
            .map(|mails| (mails, mark.clone()))
            .collect();
        drop(mark);
        let sending = futures::stream::iter(marks)
            .map(|(mails, mark)| async move {
                let mut outcomes = Vec::with_capacity(mails.len());
                for mail in &mails {
                    outcomes.push(self.send_claimed(mail, &mark).await);
                }
                futures::stream::iter(outcomes)
            })
            .buffer_unordered(self.transport.concurrency().max(1))
            .flatten()
            .collect::<Vec<_>>();
        let (outcomes, ()) = tokio::join!(sending, committer);
        let mut round = OutboxRound::default();
        let mut first_error = None;
        for outcome in outcomes {
            match outcome {
                Ok(MailOutcome::Sent) => round.sent += 1,
                Ok(MailOutcome::Retried) => round.retried += 1,
                Ok(MailOutcome::Dead) => round.dead += 1,
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

    /// Marks mails the relay accepted as sent, in one transaction with their audit events.
    async fn mark_sent(
        &self,
        sent: Vec<SentMail>,
        settle_by: tokio::time::Instant,
    ) -> Vec<Result<(), EngineError>> {
        let ids: Vec<MailId> = sent.iter().map(|(id, _)| *id).collect();
        let events: Vec<NewAuditEvent> = sent.into_iter().map(|(_, event)| event).collect();
        // The relay has them: a lost "sent" mark would send them again after the lease.
        let marked = settle::settle(settle_by, || {
            self.store
                .mark_mails_sent(&ids, events.clone(), self.clock.now())
        })
        .await;
        match marked {
            Ok(()) => {
                events.iter().for_each(audit::log);
                ids.iter().map(|_| Ok(())).collect()
            }
            Err(err) => {
                let reason = err.to_string();
                let mut results = vec![Err(EngineError::from(err))];
                results.extend(
                    ids.iter()
                        .skip(1)
                        .map(|_| Err(EngineError::Unrecorded(reason.clone()))),
                );
                results
            }
        }
    }

    /// Sends one claimed mail and records what became of it (a sent mail through `mark`).
    async fn send_claimed(
        &self,
        mail: &OutboxMail,
        mark: &GroupCommit<SentMail, Result<(), EngineError>>,
    ) -> Result<MailOutcome, EngineError> {
        let settings = self.worker;
        match self.deliver(mail).await {
            Ok(()) => {
                let event = self.audit.mail_sent(&mail.tenant_id, &mail.message_id);
                match mark.commit((mail.id, event)).await {
                    Ok(Ok(())) => Ok(MailOutcome::Sent),
                    Ok(Err(err)) => Err(err),
                    Err(_) => Err(EngineError::Unrecorded("the committer stopped".into())),
                }
            }
            Err(Failure::Retry(reason)) if mail.attempts < settings.max_attempts => {
                let delay = settings.backoff(mail.attempts, settings::jitter());
                let next =
                    self.clock.now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(60));
                self.store.reschedule_mail(mail.id, &reason, next).await?;
                self.audit
                    .mail_failed(&mail.tenant_id, &mail.message_id, "retry", &reason)
                    .await;
                Ok(MailOutcome::Retried)
            }
            Err(Failure::Retry(reason) | Failure::GiveUp(reason)) => {
                self.store.mark_mail_dead(mail.id, &reason).await?;
                self.audit
                    .mail_failed(&mail.tenant_id, &mail.message_id, "dead", &reason)
                    .await;
                Ok(MailOutcome::Dead)
            }
        }
    }

    async fn deliver(&self, mail: &OutboxMail) -> Result<(), Failure> {
        let plain = open_blob(
            &self.keyring,
            &mail.body,
            &body_context(&mail.tenant_id, &mail.message_id),
        )
        .map_err(|e| Failure::GiveUp(e.to_string()))?;
        let body: SealedBody =
            serde_json::from_slice(&plain).map_err(|e| Failure::GiveUp(format!("body: {e}")))?;
        let outgoing = OutgoingMail {
            from: body.from,
            to: body.to,
            subject: body.subject,
            html: body.html,
            text: body.text,
            message_id: mail.message_id.clone(),
        };
        match self.transport.send(&outgoing).await {
            Ok(()) => Ok(()),
            Err(SendError::Transient(reason)) => Err(Failure::Retry(reason)),
            Err(SendError::Permanent(reason)) => Err(Failure::GiveUp(reason)),
        }
    }
}

enum Failure {
    Retry(String),
    GiveUp(String),
}

/// `mails` grouped by recipient, each group oldest first.
fn per_recipient(mut mails: Vec<OutboxMail>) -> Vec<Vec<OutboxMail>> {
    mails.sort_by(|a, b| (&a.recipient, a.id.0).cmp(&(&b.recipient, b.id.0)));
    let mut groups: Vec<Vec<OutboxMail>> = Vec::new();
    for mail in mails {
        match groups.last_mut() {
            Some(group) if group[0].recipient == mail.recipient => group.push(mail),
            _ => groups.push(vec![mail]),
        }
    }
    groups
}

/// A mail the relay accepted, to mark sent, and its audit event.
type SentMail = (MailId, NewAuditEvent);

/// What happened to one claimed mail.
enum MailOutcome {
    Sent,
    Retried,
    Dead,
}

#[cfg(test)]
mod tests;
