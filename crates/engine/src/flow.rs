//! The redemption of a Passgate token (link) or flow + code, as a typed state machine.
//!
//! ```text
//! Presented ──verify──▶ Verified ──check──▶ Acceptable ──recheck──▶ Current ──consume──▶ Consumed ──apply──▶ Done(Ok)
//!     │                    │                    │                      │                    │
//!     └─ InvalidLink       └─ Mismatch /        └─ InvalidLink         └─ InvalidLink       ├─ ProviderRejected (released)
//!                             PolicyViolations /   (account changed)      (lost the race)   ├─ TryAgainLater   (released)
//!                             PasswordReused                                                └─ Unconfirmed     (stays spent)
//! ```
//!
//! Each state carries only what is valid in it (a `Verified` has a usable row and its
//! tenant; a `Current` also has the freshly fetched provider user; a `Consumed` also owns the
//! consumed row), transitions are methods that return the next `Step`, and the driver in
//! `redeem.rs` dispatches with an exhaustive `match`. `docs/reset-flow.md` draws it.

use std::{fmt, net::IpAddr, sync::Arc};

use chrono::{DateTime, Utc};
use passgate_idp::{IdentityProvider, IdpError, ProviderUser};
use passgate_policy::{CheckContext, PolicySpec, Violation};
use passgate_store::{HistoryRepo, ResetToken, StoreError, TokenRepo};
use passgate_tenant::{ClientId, TenantId};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    audit::{AuditRecord, action},
    engine::Inner,
    error::{CompleteError, InvalidLink},
    outbox,
    render::MailContent,
    secret_token::{FlowId, LinkToken, ResetCode},
    strategy::{hosted::stored, snapshot_time},
    tenants::TenantRuntime,
};

/// The secret a user brings back.
pub enum Credential {
    /// The token from a hosted link.
    Link {
        /// The token text as received.
        token: String,
    },
    /// The flow id from the request answer and the code from the mail (code mode).
    Code {
        /// [`crate::RequestAccepted::flow_id`].
        flow_id: String,
        /// The digits as typed (spaces and dashes ignored).
        code: String,
    },
    /// The code Janrain put in its mailed link, with the client id of the landing page.
    Janrain {
        /// The `client_id` of the page Janrain linked to.
        client_id: String,
        /// Janrain's one-time code.
        code: SecretString,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Link { .. } => f.write_str("Credential::Link(<redacted>)"),
            Self::Code { flow_id, .. } => write!(f, "Credential::Code({flow_id}, <redacted>)"),
            Self::Janrain { client_id, .. } => {
                write!(f, "Credential::Janrain({client_id}, <redacted>)")
            }
        }
    }
}

/// A completion as the web layer received it.
#[derive(Debug)]
pub struct CompleteInput {
    /// The link token, flow + code, or Janrain code.
    pub credential: Credential,
    /// The new password, byte for byte as typed (never trimmed or normalised).
    pub password: SecretString,
    /// Its confirmation.
    pub confirmation: SecretString,
    /// The client address (for the redemption rate limit).
    pub client_ip: IpAddr,
    /// Correlates logs and audit events.
    pub request_id: String,
}

/// A successful completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    /// Where to send the user (allowlisted at request time), if the request named one.
    pub redirect_uri: Option<String>,
    /// The app the reset was for, when known.
    pub client_id: Option<String>,
    /// The locale of the flow, for the success page.
    pub locale: String,
}

/// What the new-password page needs to know about a usable link. Reading it changes nothing.
#[derive(Debug, Clone)]
pub struct TokenView {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The app the link was issued for.
    pub client_id: ClientId,
    /// The app's display name.
    pub display_name: String,
    /// The locale the user asked in.
    pub locale: String,
    /// When the link dies.
    pub expires_at: DateTime<Utc>,
    /// The rules the page shows and checks live (the server checks again on submit).
    pub policy: PolicySpec,
    /// The account the link is bound to, masked (`a••@example.com`), so a user who opens
    /// someone else's link sees it is not theirs.
    pub masked_account: String,
}

/// The password half of an attempt, carried through the transitions.
pub(crate) struct Attempt {
    pub(crate) password: SecretString,
    pub(crate) confirmation: SecretString,
    pub(crate) request_id: String,
}

/// What the audit trail learns as the machine runs.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) tenant: Option<TenantId>,
    pub(crate) client: Option<ClientId>,
    pub(crate) user_id: Option<String>,
    /// The verified token or flow row, which refused passwords count against.
    pub(crate) row: Option<passgate_store::Sha256Digest>,
    pub(crate) outcome: &'static str,
}

/// A state of the machine.
pub(crate) enum Step {
    /// A credential was presented; nothing is known yet.
    Presented(Presented),
    /// The credential names a usable row of an active tenant.
    Verified(Box<Verified>),
    /// The password passed confirmation, the tenant's policy and the history.
    Acceptable(Box<Acceptable>),
    /// The account at the provider is unchanged since issue.
    Current(Box<Current>),
    /// The row is spent; the provider may be called exactly once.
    Consumed(Box<Consumed>),
    /// The end.
    Done(Result<Completed, CompleteError>),
}

/// The credential forms the machine redeems (Janrain's goes to its strategy).
pub(crate) enum Presented {
    /// A link token (malformed text included: it is refused like an unknown one).
    Link(Option<LinkToken>),
    /// A flow and a code (`None` when the digits were malformed: counts as a wrong code).
    Code(Option<FlowId>, Option<ResetCode>),
}

/// A usable row and its tenant.
pub(crate) struct Verified {
    pub(crate) tenant: Arc<TenantRuntime>,
    pub(crate) row: ResetToken,
}

/// A usable row and an acceptable password.
pub(crate) struct Acceptable {
    verified: Verified,
}

/// The fresh provider user behind an acceptable attempt.
pub(crate) struct Current {
    verified: Verified,
    provider: Arc<dyn IdentityProvider>,
    user: ProviderUser,
}

/// The attempt that won the row.
pub(crate) struct Consumed {
    current: Current,
    consumed: ResetToken,
}

/// Why `row` cannot be used at `now`, if it cannot. `expires_at` is the first dead instant,
/// as in the store's conditional update.
fn refusal(row: &ResetToken, now: DateTime<Utc>) -> Option<&'static str> {
    if row.consumed_at.is_some() {
        Some("used")
    } else if row.invalidated_at.is_some() {
        Some("invalidated")
    } else if now >= row.expires_at {
        Some("expired")
    } else {
        None
    }
}

/// Why a presented credential was refused, with the row's tenant and app when a row was
/// found (for the audit trail; the user sees only [`InvalidLink`]).
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) reason: &'static str,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) client: Option<ClientId>,
}

impl Refused {
    fn anonymous(reason: &'static str) -> Self {
        Self {
            reason,
            tenant: None,
            client: None,
        }
    }

    fn of(row: &ResetToken, reason: &'static str) -> Self {
        Self {
            reason,
            tenant: Some(row.tenant_id.clone()),
            client: Some(row.client_id.clone()),
        }
    }
}

impl Presented {
    /// Finds the row, checks its state and its tenant. Never changes anything, except
    /// counting a wrong code on its flow.
    pub(crate) async fn verify(self, inner: &Inner) -> Result<Verified, Refused> {
        let now = inner.clock.now();
        let row = match self {
            Self::Link(token) => {
                let token = token.ok_or(Refused::anonymous("malformed"))?;
                let row = lookup(inner, stored(inner.hasher.link(&token))).await?;
                if row.purpose != passgate_store::TokenPurpose::Link {
                    return Err(Refused::anonymous("unknown"));
                }
                if let Some(reason) = refusal(&row, now) {
                    return Err(Refused::of(&row, reason));
                }
                row
            }
            Self::Code(flow, code) => {
                let flow = flow.ok_or(Refused::anonymous("malformed"))?;
                let flow_hash = stored(inner.hasher.flow(&flow));
                let row = lookup(inner, flow_hash).await?;
                if let Some(reason) = refusal(&row, now) {
                    return Err(Refused::of(&row, reason));
                }
                let proven = match code {
                    Some(code) => inner
                        .store
                        .lookup_token(&stored(inner.hasher.code(&flow, &code)))
                        .await
                        .map_err(|_| Refused::of(&row, "unavailable"))?
                        .is_some_and(|c| {
                            c.tenant_id == row.tenant_id
                                && c.user_id == row.user_id
                                && c.invalidated_at.is_none()
                        }),
                    None => false,
                };
                if !proven {
                    let _ = inner
                        .store
                        .record_failed_attempt(
                            &row.tenant_id,
                            &flow_hash,
                            inner.settings.code_max_attempts,
                            now,
                        )
                        .await;
                    return Err(Refused::of(&row, "wrong_code"));
                }
                row
            }
        };
        let tenant = inner
            .tenants
            .by_client(&row.client_id)
            .await
            .map_err(|_| Refused::of(&row, "unavailable"))?
            .ok_or_else(|| Refused::of(&row, "tenant_gone"))?;
        if tenant.config.id != row.tenant_id {
            return Err(Refused::of(&row, "tenant_mismatch"));
        }
        Ok(Verified { tenant, row })
    }
}

async fn lookup(inner: &Inner, hash: passgate_store::Sha256Digest) -> Result<ResetToken, Refused> {
    let mut row = inner
        .store
        .lookup_token(&hash)
        .await
        .map_err(|_| Refused::anonymous("unavailable"))?
        .ok_or(Refused::anonymous("unknown"))?;
    // Sealed at rest (item 53); opened for the account re-check and the rule's context.
    row.email = crate::at_rest::open_token_email(inner, &row)
        .map_err(|_| Refused::of(&row, "unsealable"))?;
    Ok(row)
}

/// Runs the tenant's policy on the blocking pool (the script rule may take its full budget).
pub(crate) async fn check_policy(
    tenant: &Arc<TenantRuntime>,
    password: &SecretString,
    context: CheckContext,
) -> Result<Vec<Violation>, CompleteError> {
    let tenant = Arc::clone(tenant);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        passgate_policy::check(&tenant.policy, password.expose_secret(), &context)
    })
    .await
    .map_err(|_| CompleteError::TryAgainLater)
}

/// The message key for a provider's policy rejection.
pub(crate) fn provider_rejection_key(err: &IdpError) -> &'static str {
    match err {
        IdpError::PasswordStrength => "provider.password_strength",
        IdpError::PasswordHistory => "provider.password_history",
        IdpError::PasswordDictionary => "provider.password_dictionary",
        IdpError::PasswordNoUserInfo => "provider.password_personal_info",
        _ => "provider.password_rejected",
    }
}

impl Verified {
    /// Confirmation, the tenant's policy, then the history: nothing leaves Passgate yet.
    pub(crate) async fn check(self, inner: &Inner, attempt: &Attempt, trace: &mut Trace) -> Step {
        let same: bool = subtle::ConstantTimeEq::ct_eq(
            attempt.password.expose_secret().as_bytes(),
            attempt.confirmation.expose_secret().as_bytes(),
        )
        .into();
        if !same {
            trace.outcome = "mismatch";
            return Step::Done(Err(CompleteError::Mismatch));
        }
        let config = &self.tenant.config;
        let context = CheckContext::new(config.display_name.clone(), self.row.locale.clone())
            .with_email(self.row.email.clone());
        match check_policy(&self.tenant, &attempt.password, context).await {
            Ok(violations) if violations.is_empty() => {}
            Ok(violations) => {
                trace.outcome = "policy";
                return Step::Done(Err(CompleteError::PolicyViolations(violations)));
            }
            Err(err) => return Step::Done(Err(err)),
        }
        let depth = config.policy_spec().history_depth;
        if depth > 0 {
            let recent = match inner
                .store
                .recent_hashes(&config.id, &self.row.user_id, u32::from(depth))
                .await
            {
                Ok(recent) => recent.into_iter().map(|e| e.hash).collect(),
                Err(_) => return Step::Done(Err(CompleteError::TryAgainLater)),
            };
            match inner.history.matches_any(&attempt.password, recent).await {
                Ok(false) => {}
                Ok(true) => {
                    trace.outcome = "history";
                    return Step::Done(Err(CompleteError::PasswordReused { depth }));
                }
                Err(_) => return Step::Done(Err(CompleteError::TryAgainLater)),
            }
        }
        Step::Acceptable(Box::new(Acceptable { verified: self }))
    }
}

impl Acceptable {
    /// Fetches the user again: refused if the email changed, the user is blocked or gone, or
    /// the password changed by another path since issue (item 8).
    pub(crate) async fn recheck(self, inner: &Inner, trace: &mut Trace) -> Step {
        let Verified { tenant, row } = self.verified;
        if !inner.provider_allowed(&row.tenant_id) {
            trace.outcome = "circuit_open";
            return Step::Done(Err(CompleteError::TryAgainLater));
        }
        let provider = match inner.providers.provider(&tenant.config).await {
            Ok(provider) => provider,
            Err(_) => return Step::Done(Err(CompleteError::TryAgainLater)),
        };
        let found = provider.find_user_by_email(&row.email).await;
        inner.provider_outcome(&row.tenant_id, &found);
        let user = match found {
            Ok(user) => user,
            Err(_) => {
                trace.outcome = "provider_unavailable";
                return Step::Done(Err(CompleteError::TryAgainLater));
            }
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
                verified: Verified { tenant, row },
                provider,
                user,
            })),
            _ => {
                // The link is dead for good: kill it and its siblings.
                let _ = inner
                    .store
                    .invalidate_user_tokens(
                        &row.tenant_id,
                        &row.client_id,
                        &row.user_id,
                        inner.clock.now(),
                    )
                    .await;
                trace.outcome = "account_changed";
                Step::Done(Err(InvalidLink.into()))
            }
        }
    }
}

impl Current {
    /// Spends the row with one conditional update; only one attempt, even concurrent, wins.
    pub(crate) async fn consume(self, inner: &Inner, trace: &mut Trace) -> Step {
        let row = &self.verified.row;
        match inner
            .store
            .consume_token(&row.tenant_id, &row.hash, inner.clock.now())
            .await
        {
            Ok(consumed) => Step::Consumed(Box::new(Consumed {
                current: self,
                consumed,
            })),
            Err(StoreError::Token(_)) => {
                trace.outcome = "used";
                Step::Done(Err(InvalidLink.into()))
            }
            Err(_) => Step::Done(Err(CompleteError::TryAgainLater)),
        }
    }
}

impl Consumed {
    /// Calls the provider exactly once and settles the row by its answer.
    pub(crate) async fn apply(self, inner: &Inner, attempt: &Attempt, trace: &mut Trace) -> Step {
        let Current {
            verified,
            provider,
            user,
        } = &self.current;
        match provider
            .set_password(&user.user_id, &attempt.password)
            .await
        {
            Ok(_) => {
                trace.outcome = "ok";
                self.after_change(inner, attempt).await;
                let row = &verified.row;
                Step::Done(Ok(Completed {
                    redirect_uri: row.redirect_uri.clone(),
                    client_id: Some(row.client_id.as_str().to_owned()),
                    locale: row.locale.clone(),
                }))
            }
            Err(err) if err.is_ambiguous() => {
                // Maybe applied: never retry blindly, never report success. Re-read the
                // account to tell the user the truth; the row stays spent.
                let likely_applied = match provider.find_user_by_email(&verified.row.email).await {
                    Ok(Some(now)) => {
                        snapshot_time(now.last_password_reset) != verified.row.last_password_reset
                    }
                    _ => false,
                };
                trace.outcome = if likely_applied {
                    "unconfirmed_applied"
                } else {
                    "unconfirmed"
                };
                if likely_applied {
                    self.after_change(inner, attempt).await;
                }
                Step::Done(Err(CompleteError::Unconfirmed { likely_applied }))
            }
            Err(IdpError::NotFound) => {
                trace.outcome = "user_gone";
                Step::Done(Err(InvalidLink.into()))
            }
            Err(err) => {
                // A definite failure: nothing changed at the provider, so the row is given
                // back for a corrected password or a retry after the outage.
                let released = inner
                    .store
                    .release_token(&self.consumed.tenant_id, self.consumed.id)
                    .await
                    .unwrap_or(false);
                if err.is_policy_rejection() {
                    trace.outcome = "provider_rejected";
                    Step::Done(Err(CompleteError::ProviderRejected {
                        message_key: provider_rejection_key(&err),
                    }))
                } else {
                    trace.outcome = if released {
                        "provider_unavailable"
                    } else {
                        "provider_unavailable_unreleased"
                    };
                    Step::Done(Err(CompleteError::TryAgainLater))
                }
            }
        }
    }

    /// Sessions, history, then the optional notice. Failures here are logged and audited,
    /// never reported to the user: the password did change.
    async fn after_change(&self, inner: &Inner, attempt: &Attempt) {
        let Current { verified, user, .. } = &self.current;
        let config = &verified.tenant.config;
        if config.reset.revoke_sessions {
            self.revoke_sessions(inner, attempt).await;
        }
        let depth = config.policy_spec().history_depth;
        if depth > 0 {
            match inner.history.hash(&attempt.password).await {
                Ok(hash) => {
                    if let Err(err) = inner
                        .store
                        .record_password(
                            &config.id,
                            &user.user_id,
                            &hash,
                            u32::from(depth),
                            inner.clock.now(),
                        )
                        .await
                    {
                        tracing::warn!(error = %err, "password history not recorded");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "password history not hashed"),
            }
        }
        if config.email.password_changed_notice {
            let locale = config.locales.negotiate(Some(&verified.row.locale)).clone();
            let sent = match inner.renderer.render(
                config,
                &locale,
                &MailContent::PasswordChanged,
                Some(&attempt.request_id),
            ) {
                Ok(mail) => outbox::queue(inner, config, &user.email, mail)
                    .await
                    .map(|_| ()),
                Err(err) => Err(err),
            };
            if let Err(err) = sent {
                tracing::warn!(error = %err, "password-changed notice not queued");
            }
        }
    }

    /// Signs the user out everywhere at the provider (security item 47). The outcome is
    /// audited; a refusal (plan without the session API, missing scope) is a warning.
    async fn revoke_sessions(&self, inner: &Inner, attempt: &Attempt) {
        let Current {
            verified,
            provider,
            user,
        } = &self.current;
        let row = &verified.row;
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
        inner
            .audit
            .record(AuditRecord {
                tenant: Some(&row.tenant_id),
                client: Some(&row.client_id),
                actor: format!("user:{}", user.user_id),
                action: action::SESSIONS_REVOKED,
                outcome,
                request_id: Some(&attempt.request_id),
                details: serde_json::Value::Null,
            })
            .await;
    }
}
