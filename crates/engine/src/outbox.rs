//! The mail outbox: rendered mails are sealed (AES-256-GCM, bound to tenant and Message-ID)
//! and stored; a worker claims due mails under a lease, opens them, hands them to the
//! transport, and marks them sent, reschedules them with jittered exponential backoff, or
//! dead-letters them after a bound. At-least-once: a crash between "accepted" and "marked
//! sent" re-sends with the same Message-ID, so the receiving side can drop the duplicate; a
//! database outage there does not (the mark is retried within the lease, see `settle`).

use std::sync::Arc;

use chrono::TimeDelta;
use passgate_store::{EncryptedBlob, MailId, NewMail, OutboxMail, OutboxRepo};
use passgate_tenant::{TenantConfig, TenantId};
use serde::{Deserialize, Serialize};

use crate::{
    engine::Inner,
    error::EngineError,
    mail::{OutgoingMail, SendError},
    providers::open_blob,
    render::RenderedMail,
    secret_token::FlowId,
    settle,
};

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

/// The sender of a tenant's mails.
fn sender(inner: &Inner, tenant: &TenantConfig) -> String {
    match &tenant.email.from {
        Some(mailbox) => match mailbox.name() {
            Some(name) => format!("{name} <{}>", mailbox.address()),
            None => mailbox.address().to_owned(),
        },
        None => inner.settings.default_from.clone(),
    }
}

/// Seals and queues `mail` to `to` (the address the provider stores). Returns the row id.
pub(crate) async fn queue(
    inner: &Inner,
    tenant: &TenantConfig,
    to: &str,
    mail: RenderedMail,
) -> Result<MailId, EngineError> {
    // 128 random bits, the same shape as a flow id: unique without a counter, and stable
    // across retries because it is stored with the row.
    let message_id = format!(
        "{}@{}",
        FlowId::generate()?.as_str(),
        inner.settings.message_id_domain
    );
    let body = SealedBody {
        from: sender(inner, tenant),
        to: to.to_owned(),
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
    };
    let plain = serde_json::to_vec(&body).map_err(|e| EngineError::Corrupt {
        what: "mail body",
        reason: e.to_string(),
    })?;
    let sealed = inner
        .keyring
        .seal(&plain, &body_context(&tenant.id, &message_id))?;
    let id = inner
        .store
        .enqueue_mail(NewMail {
            tenant_id: tenant.id.clone(),
            message_id,
            recipient: crate::at_rest::recipient_digest(inner, to),
            body: EncryptedBlob {
                ciphertext: sealed.ciphertext,
                nonce: sealed.nonce.to_vec(),
                key_id: sealed.key_id.as_str().to_owned(),
            },
            created_at: inner.clock.now(),
        })
        .await?;
    Ok(id)
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

/// Claims and sends one batch of due mails.
pub(crate) async fn run_round(inner: &Arc<Inner>) -> Result<OutboxRound, EngineError> {
    let settings = inner.settings.outbox;
    let now = inner.clock.now();
    let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::seconds(60));
    let claimed = inner.store.claim_mail(now, lease, settings.batch).await?;
    let settle_by = settle::deadline(tokio::time::Instant::now(), settings.lease);
    let mut round = OutboxRound::default();
    for mail in claimed {
        match deliver(inner, &mail).await {
            Ok(()) => {
                // The relay has it: a lost "sent" mark would send it again after the lease.
                settle::settle(settle_by, || {
                    inner.store.mark_mail_sent(mail.id, inner.clock.now())
                })
                .await?;
                inner
                    .audit
                    .mail_sent(&mail.tenant_id, &mail.message_id)
                    .await;
                round.sent += 1;
            }
            Err(Failure::Retry(reason)) if mail.attempts < settings.max_attempts => {
                let delay = settings.backoff(mail.attempts, rand_fraction());
                let next = inner.clock.now()
                    + TimeDelta::from_std(delay).unwrap_or(TimeDelta::seconds(60));
                inner.store.reschedule_mail(mail.id, &reason, next).await?;
                inner
                    .audit
                    .mail_failed(&mail.tenant_id, &mail.message_id, "retry", &reason)
                    .await;
                round.retried += 1;
            }
            Err(Failure::Retry(reason) | Failure::GiveUp(reason)) => {
                inner.store.mark_mail_dead(mail.id, &reason).await?;
                inner
                    .audit
                    .mail_failed(&mail.tenant_id, &mail.message_id, "dead", &reason)
                    .await;
                round.dead += 1;
            }
        }
    }
    Ok(round)
}

enum Failure {
    Retry(String),
    GiveUp(String),
}

async fn deliver(inner: &Inner, mail: &OutboxMail) -> Result<(), Failure> {
    let plain = open_blob(
        &inner.keyring,
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
    match inner.transport.send(&outgoing).await {
        Ok(()) => Ok(()),
        Err(SendError::Transient(reason)) => Err(Failure::Retry(reason)),
        Err(SendError::Permanent(reason)) => Err(Failure::GiveUp(reason)),
    }
}

/// A uniform fraction in `[0, 1)` for jitter (not security relevant).
pub(crate) fn rand_fraction() -> f64 {
    rand::random::<f64>()
}
