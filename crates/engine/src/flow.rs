//! The redemption of every credential Passgate's page takes — a hosted link token, a hosted
//! flow + code, a Janrain code — as one typed state machine ending on `Done(Outcome)`.
//!
//! ```text
//!                                       ┌─ hosted ─▶ Current ──consume──▶ Consumed ──apply──▶ Done
//! Presented ──verify──▶ Verified ──check──▶ Acceptable ─┤
//!     │                    │                 │          └─ janrain ─▶ Authorized ──apply──▶ Done
//!     └─ Done(Refused…)    └─ Done(Policy…)  └─ Done(AccountChanged / CircuitOpen / Lost…)
//! ```
//!
//! Each state carries only what is valid in it (a `Verified` has a usable row or code and its
//! tenant; a `Current` also the freshly fetched provider user; a `Consumed` also the spent
//! row; an `Authorized` Janrain's access token and the code's lock). Transitions are methods
//! that take only the components they touch and return the next [`Step`]; the one driver in
//! `redeem.rs` dispatches with an exhaustive `match` and applies to every mode alike the rate
//! limits, the confirmation check, the refusal count and the audit of the [`Outcome`].
//! `docs/reset-flow.md` draws it.
//!
//! # Layout
//! - `verify`: `Presented` → `Verified` for each credential form.
//! - `hosted`: the hosted transitions (re-check, consume, apply, after the change).
//! - `janrain`: the Janrain transitions (authorize, apply).

mod hosted;
mod janrain;
mod verify;

use std::{fmt, net::IpAddr, sync::Arc};

use chrono::{DateTime, Utc};
use passgate_idp::{IdentityProvider, IdpError, ProviderUser, ResetAuthorization};
use passgate_policy::{CheckContext, PolicySpec};
use passgate_store::{ResetToken, Sha256Digest};
use passgate_tenant::{ClientId, TenantId};
use secrecy::SecretString;
use tokio::sync::OwnedMutexGuard;

pub use crate::outcome::Completed;
use crate::{
    guarded::GuardedProviders,
    history::PasswordHistory,
    outcome::{Outcome, Unavailable},
    policy_check::check_policy,
    secret_token::{FlowId, LinkToken, ResetCode},
    strategy::janrain::JanrainCodes,
    tenants::TenantRuntime,
    tokens::Tokens,
};
pub(crate) use hosted::Aftercare;

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

/// What the audit trail and the driver learn as the machine runs.
#[derive(Debug)]
pub(crate) struct Trace {
    /// The credential form (`hosted_link`, `hosted_code`, `janrain`), for audit details.
    pub(crate) mode: &'static str,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) client: Option<ClientId>,
    /// The provider user, when the credential names one (hosted rows).
    pub(crate) user_id: Option<String>,
    /// The key of the credential's own rate-limit bucket, once it was verified.
    pub(crate) bucket: Option<Sha256Digest>,
    /// The verified hosted row, which refused passwords count against.
    pub(crate) row: Option<Sha256Digest>,
}

impl Trace {
    pub(crate) fn new(mode: &'static str) -> Self {
        Self {
            mode,
            tenant: None,
            client: None,
            user_id: None,
            bucket: None,
            row: None,
        }
    }

    /// Whether the credential was verified (its end is a completion, not a refused token).
    pub(crate) fn verified(&self) -> bool {
        self.bucket.is_some()
    }

    /// Learns what a verified credential names.
    pub(crate) fn verified_as(&mut self, verified: &Verified) {
        self.tenant = Some(verified.tenant.config.id.clone());
        match &verified.usable {
            Usable::Row(row) => {
                self.client = Some(row.client_id.clone());
                self.user_id = Some(row.user_id.clone());
                self.bucket = Some(row.hash);
                self.row = Some(row.hash);
            }
            Usable::Janrain(code) => {
                self.client = Some(code.client.clone());
                self.bucket = Some(code.digest);
            }
        }
    }
}

/// A state of the machine.
pub(crate) enum Step {
    /// A credential was presented; nothing is known yet.
    Presented(Presented),
    /// The credential is usable for an active tenant.
    Verified(Box<Verified>),
    /// The password passed the tenant's policy and the history.
    Acceptable(Box<Acceptable>),
    /// Hosted: the account at the provider is unchanged since issue.
    Current(Box<Current>),
    /// Hosted: the row is spent; the provider may be called exactly once.
    Consumed(Box<Consumed>),
    /// Janrain: the code is exchanged for an access token, under the code's lock.
    Authorized(Box<Authorized>),
    /// The end.
    Done(Outcome),
}

/// The credential forms the machine redeems.
pub(crate) enum Presented {
    /// A link token (malformed text included: it is refused like an unknown one).
    Link(Option<LinkToken>),
    /// A flow and a code (`None` when the digits were malformed: counts as a wrong code).
    Code(Option<FlowId>, Option<ResetCode>),
    /// A Janrain code through the landing page of `client`.
    Janrain {
        /// The client id as received.
        client: String,
        /// Janrain's code.
        code: SecretString,
    },
}

impl Presented {
    /// Parses what the web layer received.
    pub(crate) fn from_credential(credential: Credential) -> Self {
        match credential {
            Credential::Link { token } => Self::Link(LinkToken::parse(&token)),
            Credential::Code { flow_id, code } => {
                Self::Code(FlowId::parse(&flow_id), ResetCode::parse(&code))
            }
            Credential::Janrain { client_id, code } => Self::Janrain {
                client: client_id,
                code,
            },
        }
    }

    /// The credential form, for audit details.
    pub(crate) fn mode(&self) -> &'static str {
        match self {
            Self::Link(_) => "hosted_link",
            Self::Code(..) => "hosted_code",
            Self::Janrain { .. } => "janrain",
        }
    }
}

/// A Janrain code that is not spent, expired or another tenant's.
pub(crate) struct JanrainCredential {
    pub(crate) client: ClientId,
    pub(crate) code: SecretString,
    pub(crate) digest: Sha256Digest,
}

/// What was verified.
pub(crate) enum Usable {
    /// A hosted token or flow row (its email opened).
    Row(Box<ResetToken>),
    /// A Janrain code.
    Janrain(JanrainCredential),
}

/// A usable credential and its tenant.
pub(crate) struct Verified {
    pub(crate) tenant: Arc<TenantRuntime>,
    pub(crate) usable: Usable,
}

/// A usable credential and an acceptable password.
pub(crate) struct Acceptable {
    verified: Verified,
}

/// Hosted: the fresh provider user behind an acceptable attempt.
pub(crate) struct Current {
    tenant: Arc<TenantRuntime>,
    row: ResetToken,
    provider: Arc<dyn IdentityProvider>,
    user: ProviderUser,
}

/// Hosted: the attempt that won the row.
pub(crate) struct Consumed {
    current: Current,
    consumed: ResetToken,
}

/// Janrain: an access token for the code, held under the code's lock.
pub(crate) struct Authorized {
    tenant: Arc<TenantRuntime>,
    code: JanrainCredential,
    provider: Arc<dyn IdentityProvider>,
    authorization: ResetAuthorization,
    /// Concurrent submissions of this code on this replica wait until this attempt ends.
    _lock: OwnedMutexGuard<()>,
}

/// The message key for a provider's policy rejection.
fn provider_rejection_key(err: &IdpError) -> &'static str {
    match err {
        IdpError::PasswordStrength => "provider.password_strength",
        IdpError::PasswordHistory => "provider.password_history",
        IdpError::PasswordDictionary => "provider.password_dictionary",
        IdpError::PasswordNoUserInfo => "provider.password_personal_info",
        _ => "provider.password_rejected",
    }
}

impl Verified {
    /// The tenant's policy, then the history: nothing leaves Passgate yet. (The driver has
    /// already compared the confirmation.)
    pub(crate) async fn check(self, history: &PasswordHistory, attempt: &Attempt) -> Step {
        let config = &self.tenant.config;
        let context = match &self.usable {
            Usable::Row(row) => CheckContext::new(config.display_name.clone(), row.locale.clone())
                .with_email(row.email.clone()),
            // Janrain's user is only known after the code is spent: no address, the default
            // locale.
            Usable::Janrain(_) => {
                CheckContext::new(config.display_name.clone(), config.locales.default.as_str())
            }
        };
        match check_policy(&self.tenant, &attempt.password, context).await {
            Ok(violations) if violations.is_empty() => {}
            Ok(violations) => return Step::Done(Outcome::PolicyViolations(violations)),
            Err(why) => return Step::Done(why.into()),
        }
        // Janrain users have no Passgate history (their id is unknown until the code is spent).
        if let Usable::Row(row) = &self.usable {
            let depth = config.policy_spec().history_depth;
            match history
                .reused(&config.id, &row.user_id, depth, &attempt.password)
                .await
            {
                Ok(false) => {}
                Ok(true) => return Step::Done(Outcome::PasswordReused { depth }),
                Err(_) => return Step::Done(Unavailable::Database.into()),
            }
        }
        Step::Acceptable(Box::new(Acceptable { verified: self }))
    }
}

impl Acceptable {
    /// Hosted: re-checks the account; Janrain: exchanges the code for an access token.
    pub(crate) async fn proceed(
        self,
        providers: &GuardedProviders,
        tokens: &Tokens,
        janrain: &JanrainCodes,
    ) -> Step {
        let Verified { tenant, usable } = self.verified;
        match usable {
            Usable::Row(row) => hosted::recheck(tenant, *row, providers, tokens).await,
            Usable::Janrain(code) => janrain::authorize(tenant, code, providers, janrain).await,
        }
    }
}

/// The unavailability behind a provider directory's refusal.
fn withheld(err: &crate::error::EngineError) -> Unavailable {
    match err {
        crate::error::EngineError::CircuitOpen(_) => Unavailable::CircuitOpen,
        _ => Unavailable::Directory,
    }
}

#[cfg(test)]
mod tests;
