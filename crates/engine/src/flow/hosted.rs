//! The hosted transitions: `Acceptable` → `Current` (the account is unchanged at the
//! provider), `Current` → `Consumed` (the row is spent, once), `Consumed` → `Done` (the
//! provider's answer, and what follows a change: sessions, history, the notice).

use std::sync::Arc;

use passgate_idp::{IdpError, ServedBy};
use passgate_store::{ResetToken, StoreError};
use serde_json::Value;

use super::{Attempt, Consumed, Current, Step, provider_rejection_key, withheld};
use crate::{
    audit::{Audit, AuditRecord, action},
    guarded::GuardedProviders,
    history::PasswordHistory,
    outbox::Outbox,
    outcome::{Completed, Outcome, Refusal, Unavailable},
    render::{MailContent, MailRenderer},
    tenants::TenantRuntime,
    tokens::{Tokens, snapshot_time},
};

/// What follows a password change: sessions revoked (audited), the history recorded, the
/// notice mailed.
#[derive(Clone, Copy)]
pub(crate) struct Aftercare<'a> {
    pub(crate) history: &'a PasswordHistory,
    pub(crate) renderer: &'a dyn MailRenderer,
    pub(crate) outbox: &'a Outbox,
    pub(crate) audit: &'a Audit,
}

/// Fetches the user again: refused if the email changed, the user is blocked or gone, or the
/// password changed by another path since issue (item 8).
pub(super) async fn recheck(
    tenant: Arc<TenantRuntime>,
    row: ResetToken,
    providers: &GuardedProviders,
    tokens: &Tokens,
) -> Step {
    let provider = match providers.provider(&tenant.config).await {
        Ok(provider) => provider,
        Err(err) => return Step::Done(withheld(&err).into()),
    };
    let user = match provider.find_user_by_email(&row.email).await {
        Ok(user) => user,
        Err(_) => return Step::Done(Unavailable::Provider.into()),
    };
    let unchanged = user.as_ref().is_some_and(|u| {
        u.user_id == row.user_id
            && u.email.eq_ignore_ascii_case(&row.email)
            && !u.blocked
            && row.connection.as_deref().is_none_or(|c| c == u.connection)
            && snapshot_time(u.last_password_reset) == row.last_password_reset
    });
    match user {
        Some(user) if unchanged => Step::Current(Box::new(Current {
            tenant,
            row,
            provider,
            user,
        })),
        _ => {
            // The link is dead for good: kill it and its siblings.
            let _ = tokens
                .supersede(&row.tenant_id, &row.client_id, &row.user_id)
                .await;
            Step::Done(Refusal::AccountChanged.into())
        }
    }
}

impl Current {
    /// Spends the row with one conditional update; only one attempt, even concurrent, wins.
    pub(crate) async fn consume(self, tokens: &Tokens) -> Step {
        match tokens.consume(&self.row.tenant_id, &self.row.hash).await {
            Ok(consumed) => Step::Consumed(Box::new(Consumed {
                current: self,
                consumed,
            })),
            Err(StoreError::Token(_)) => Step::Done(Refusal::Used.into()),
            Err(_) => Step::Done(Unavailable::Database.into()),
        }
    }
}

impl Consumed {
    /// Calls the provider exactly once and settles the row by its answer.
    pub(crate) async fn apply(
        self,
        tokens: &Tokens,
        aftercare: &Aftercare<'_>,
        attempt: &Attempt,
    ) -> Step {
        let Current {
            row,
            provider,
            user,
            ..
        } = &self.current;
        let outcome = match provider.change_password(user, &attempt.password).await {
            Ok(changed) => {
                if let Some(served_by) = changed.served_by {
                    self.audit_move(aftercare.audit, attempt, served_by).await;
                }
                self.after_change(aftercare, attempt).await;
                Outcome::Completed(Completed {
                    redirect_uri: row.redirect_uri.clone(),
                    client_id: Some(row.client_id.as_str().to_owned()),
                    locale: row.locale.clone(),
                })
            }
            Err(err) if err.is_ambiguous() => {
                // Maybe applied: never retry blindly, never report success. Re-read the
                // account to tell the user the truth; the row stays spent.
                let likely_applied = match provider.find_user_by_email(&row.email).await {
                    Ok(Some(now)) => {
                        snapshot_time(now.last_password_reset) != row.last_password_reset
                    }
                    _ => false,
                };
                if likely_applied {
                    self.after_change(aftercare, attempt).await;
                }
                Outcome::Unconfirmed { likely_applied }
            }
            Err(IdpError::NotFound) => Refusal::UserGone.into(),
            Err(err) => {
                // A definite failure: nothing changed at the provider, so the row is given
                // back for a corrected password or a retry after the outage.
                let released = tokens
                    .release(&self.consumed.tenant_id, self.consumed.id)
                    .await;
                if err.is_policy_rejection() {
                    Outcome::ProviderRejected {
                        message_key: provider_rejection_key(&err),
                    }
                } else if released {
                    Unavailable::Provider.into()
                } else {
                    Unavailable::ProviderUnreleased.into()
                }
            }
        };
        Step::Done(outcome)
    }

    /// Sessions, history, then the optional notice. Failures here are logged and audited,
    /// never reported to the user: the password did change.
    async fn after_change(&self, aftercare: &Aftercare<'_>, attempt: &Attempt) {
        let Current {
            tenant, row, user, ..
        } = &self.current;
        let config = &tenant.config;
        if config.reset.revoke_sessions {
            self.revoke_sessions(aftercare.audit, attempt).await;
        }
        let depth = config.policy_spec().history_depth;
        aftercare
            .history
            .remember(&config.id, &user.user_id, depth, &attempt.password)
            .await;
        if config.email.password_changed_notice {
            let locale = config.locales.negotiate(Some(&row.locale)).clone();
            let sent = match aftercare.renderer.render(
                config,
                &locale,
                &MailContent::PasswordChanged,
                Some(&attempt.request_id),
            ) {
                Ok(mail) => aftercare
                    .outbox
                    .queue(config, &user.email, mail)
                    .await
                    .map(|_| ()),
                Err(err) => Err(err),
            };
            if let Err(err) = sent {
                tracing::warn!(error = %err, "password-changed notice not queued");
            }
        }
    }

    /// Where a moving tenant's new password went (the move's progress, issue 19).
    async fn audit_move(&self, audit: &Audit, attempt: &Attempt, served_by: ServedBy) {
        let Current { row, user, .. } = &self.current;
        audit
            .record(AuditRecord {
                tenant: Some(&row.tenant_id),
                client: Some(&row.client_id),
                actor: format!("user:{}", user.user_id),
                action: action::MOVE_SERVED,
                outcome: served_by.as_str().to_owned(),
                request_id: Some(&attempt.request_id),
                details: Value::Null,
            })
            .await;
    }

    /// Signs the user out everywhere at the provider (security item 47). The outcome is
    /// audited; a refusal (plan without the session API, missing scope) is a warning.
    async fn revoke_sessions(&self, audit: &Audit, attempt: &Attempt) {
        let Current {
            row,
            provider,
            user,
            ..
        } = &self.current;
        let outcome = match provider.revoke_sessions(&user.user_id).await {
            Ok(()) => "ok".to_owned(),
            Err(IdpError::Unsupported { .. }) => "unsupported".to_owned(),
            Err(err) => {
                tracing::warn!(
                    tenant = %row.tenant_id,
                    error = %err,
                    "sessions not revoked after a password change (set reset.revoke_sessions: \
                     false if the provider plan has no session API)"
                );
                let reason = match &err {
                    IdpError::Forbidden { .. } => "forbidden",
                    IdpError::Unauthorized { .. } => "unauthorized",
                    IdpError::NotFound => "not_found",
                    other if other.is_retryable() => "unavailable",
                    _ => "error",
                };
                format!("failed:{reason}")
            }
        };
        audit
            .record(AuditRecord {
                tenant: Some(&row.tenant_id),
                client: Some(&row.client_id),
                actor: format!("user:{}", user.user_id),
                action: action::SESSIONS_REVOKED,
                outcome,
                request_id: Some(&attempt.request_id),
                details: Value::Null,
            })
            .await;
    }
}
