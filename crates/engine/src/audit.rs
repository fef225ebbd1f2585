//! Audit events: one per reset step, with tenant, client id, request id and outcome, and no
//! secret (no password, token, code or full email: accounts appear as the provider user id
//! or a masked address). Each event is appended to the store's audit log and emitted on the
//! dedicated tracing target [`SECURITY_TARGET`].

use passgate_store::{AuditRepo, NewAuditEvent, Store};
use passgate_tenant::{ClientId, TenantId};
use serde_json::{Value, json};

use crate::clock::Clock;
use std::sync::Arc;

/// The tracing target of security events, so operators can route them apart.
pub const SECURITY_TARGET: &str = "passgate::security";

/// Audit action names, stable for dashboards and the admin API.
pub mod action {
    /// A reset was requested (outcome: `rate_limited:<bucket>`, `malformed_email`).
    pub const REQUESTED: &str = "reset.requested";
    /// The background step ran (outcome: issued, provider_mailed, unknown_user, blocked…).
    pub const ISSUED: &str = "reset.issue";
    /// A link or code was refused (outcome: unknown, expired, used, invalidated…).
    pub const TOKEN_REFUSED: &str = "reset.token_refused";
    /// A completion ended (outcome: ok, mismatch, policy, provider_rejected…).
    pub const COMPLETED: &str = "reset.complete";
    /// After a password change, the user's sessions and refresh tokens were revoked
    /// (outcome: ok, unsupported, failed:<reason>).
    pub const SESSIONS_REVOKED: &str = "reset.sessions_revoked";
    /// A mail was sent, retried or dead-lettered.
    pub const MAIL: &str = "mail.delivery";
    /// A rate limit refused a step.
    pub const RATE_LIMITED: &str = "reset.rate_limited";
    /// A moving tenant's new password went to a provider (outcome: target, source, both,
    /// migrated). Where its look-up found the address is in the `reset.issue` event's
    /// `placement` detail.
    pub const MOVE_SERVED: &str = "move.served";
}

/// One event before it is stored.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    /// The tenant concerned.
    pub tenant: Option<&'a TenantId>,
    /// The app.
    pub client: Option<&'a ClientId>,
    /// Who: `system`, or `user:<provider id>`.
    pub actor: String,
    /// One of [`action`].
    pub action: &'static str,
    /// `ok`, `failed:<reason>`…
    pub outcome: String,
    /// The request that caused it.
    pub request_id: Option<&'a str>,
    /// Extras, never secrets.
    pub details: Value,
}

/// Writes audit events.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Audit {
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Logs and stores `record`. A failing audit write is logged, never fatal: the user's
    /// step has already happened and must not be reported otherwise.
    pub(crate) async fn record(&self, record: AuditRecord<'_>) {
        let event = self.event(record);
        log(&event);
        if let Err(err) = self.store.append_audit(event).await {
            tracing::warn!(target: SECURITY_TARGET, error = %err, "audit event not stored");
        }
    }

    /// `record` as a row, stamped now, to append with other writes; [`log`] it once they
    /// are committed.
    pub(crate) fn event(&self, record: AuditRecord<'_>) -> NewAuditEvent {
        NewAuditEvent {
            tenant_id: record.tenant.cloned(),
            actor: record.actor,
            action: record.action.to_owned(),
            outcome: record.outcome,
            request_id: record.request_id.map(str::to_owned),
            client_id: record.client.cloned(),
            details: record.details,
            created_at: self.clock.now(),
        }
    }

    /// The event of a mail the relay accepted, to append with its "sent" mark.
    pub(crate) fn mail_sent(&self, tenant: &TenantId, message_id: &str) -> NewAuditEvent {
        self.event(AuditRecord {
            tenant: Some(tenant),
            client: None,
            actor: "system".into(),
            action: action::MAIL,
            outcome: "sent".into(),
            request_id: None,
            details: json!({ "message_id": message_id }),
        })
    }

    pub(crate) async fn mail_failed(
        &self,
        tenant: &TenantId,
        message_id: &str,
        outcome: &str,
        reason: &str,
    ) {
        self.record(AuditRecord {
            tenant: Some(tenant),
            client: None,
            actor: "system".into(),
            action: action::MAIL,
            outcome: outcome.to_owned(),
            request_id: None,
            details: json!({ "message_id": message_id, "error": scrub_addresses(reason) }),
        })
        .await;
    }
}

/// Replaces every word that looks like an address in a server reply (`550 <ada@x>: no such
/// user`) so audit and log lines never carry an email.
/// The security log line of `event` (the same fields as the stored row).
pub(crate) fn log(event: &NewAuditEvent) {
    tracing::info!(
        target: SECURITY_TARGET,
        tenant = event.tenant_id.as_ref().map(TenantId::as_str),
        client_id = event.client_id.as_ref().map(ClientId::as_str),
        request_id = ?event.request_id,
        action = event.action.as_str(),
        outcome = %event.outcome,
        details = %event.details,
        "security event"
    );
}

pub(crate) fn scrub_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_replies_lose_their_addresses() {
        assert_eq!(
            scrub_addresses("550 5.1.1 <ada@example.com>: unknown"),
            "550 5.1.1 <address> unknown"
        );
    }
}
