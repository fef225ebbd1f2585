//! The typed ends of a redemption, for every mode: why a credential was refused
//! ([`Refusal`]), why nothing could be done now ([`Unavailable`]), and the one [`Outcome`] the
//! machine ends on. Control flow matches on these; their `as_str` names exist only for the
//! audit trail (stable: dashboards key on them).

use passgate_policy::Violation;
use passgate_store::ResetToken;
use passgate_tenant::{ClientId, TenantId};

use crate::error::{CompleteError, InvalidLink};

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

/// Why a credential cannot be used. The user sees [`InvalidLink`] for every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not even shaped like a token, flow id or client id.
    Malformed,
    /// No such row, or a client id that names no tenant.
    Unknown,
    /// Already spent (also: lost the race for it).
    Used,
    /// Superseded by a newer request, or killed by an account change.
    Invalidated,
    /// Past its lifetime.
    Expired,
    /// The code does not prove the flow (counted on the flow).
    WrongCode,
    /// The row's app no longer routes to a tenant.
    TenantGone,
    /// The row's app routes to another tenant now.
    TenantMismatch,
    /// The row's sealed data does not open.
    Unsealable,
    /// The tenant's mode does not redeem this kind of credential.
    WrongMode,
    /// A Janrain code first redeemed through another tenant.
    ForeignTenant,
    /// The account changed at the provider since issue.
    AccountChanged,
    /// The provider no longer has the user.
    UserGone,
    /// Another replica redeemed the Janrain code a moment ago.
    LostRace,
    /// The provider refused the code itself.
    CodeRejected,
    /// The refused password that reached `redeem_max_refusals` spent the row.
    RefusalsExhausted,
}

impl Refusal {
    /// The audit name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Used => "used",
            Self::Invalidated => "invalidated",
            Self::Expired => "expired",
            Self::WrongCode => "wrong_code",
            Self::TenantGone => "tenant_gone",
            Self::TenantMismatch => "tenant_mismatch",
            Self::Unsealable => "unsealable",
            Self::WrongMode => "wrong_mode",
            Self::ForeignTenant => "foreign_tenant",
            Self::AccountChanged => "account_changed",
            Self::UserGone => "user_gone",
            Self::LostRace => "lost_race",
            Self::CodeRejected => "code_rejected",
            Self::RefusalsExhausted => "refusals_exhausted",
        }
    }

    /// Why `row` cannot be used at `now`, if it cannot. `expires_at` is the first dead
    /// instant, as in the store's conditional update.
    pub(crate) fn of_row(row: &ResetToken, now: chrono::DateTime<chrono::Utc>) -> Option<Self> {
        if row.consumed_at.is_some() {
            Some(Self::Used)
        } else if row.invalidated_at.is_some() {
            Some(Self::Invalidated)
        } else if now >= row.expires_at {
            Some(Self::Expired)
        } else {
            None
        }
    }
}

/// Why nothing could be decided now. The user sees "try again later"; the credential is
/// untouched (or released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// The database did not answer.
    Database,
    /// The tenant directory did not answer.
    Tenants,
    /// The blocking pool (policy rule, hashing) failed.
    Worker,
    /// The tenant's provider circuit is open.
    CircuitOpen,
    /// The provider client could not be built (binding, secret).
    Directory,
    /// The provider failed definitely; a consumed row was given back.
    Provider,
    /// The provider failed definitely and the consumed row could not be given back.
    ProviderUnreleased,
}

impl Unavailable {
    /// The audit name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database_unavailable",
            Self::Tenants => "tenants_unavailable",
            Self::Worker => "worker_unavailable",
            Self::CircuitOpen => "circuit_open",
            Self::Directory => "provider_binding",
            Self::Provider => "provider_unavailable",
            Self::ProviderUnreleased => "provider_unavailable_unreleased",
        }
    }
}

/// How a redemption ended, whatever the mode. Every end is audited under [`Outcome::as_str`].
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The password was set.
    Completed(Completed),
    /// The credential is unusable.
    Refused(Refusal),
    /// A rate limit (client, credential or tenant) refused the attempt.
    Throttled,
    /// The confirmation differs.
    Mismatch,
    /// The tenant's rules refuse the password.
    PolicyViolations(Vec<Violation>),
    /// One of the last `depth` passwords.
    PasswordReused {
        /// The tenant's history depth.
        depth: u8,
    },
    /// The provider's own policy refused the password.
    ProviderRejected {
        /// The message key to show.
        message_key: &'static str,
    },
    /// Nothing could be done now.
    Unavailable(Unavailable),
    /// The provider may have applied the change; never reported as success.
    Unconfirmed {
        /// Whether re-reading the account showed the change.
        likely_applied: bool,
    },
}

impl From<Refusal> for Outcome {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<Unavailable> for Outcome {
    fn from(unavailable: Unavailable) -> Self {
        Self::Unavailable(unavailable)
    }
}

impl Outcome {
    /// The audit name.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::Completed(_) => "ok",
            Self::Refused(refusal) => refusal.as_str(),
            Self::Throttled => "throttled",
            Self::Mismatch => "mismatch",
            Self::PolicyViolations(_) => "policy",
            Self::PasswordReused { .. } => "history",
            Self::ProviderRejected { .. } => "provider_rejected",
            Self::Unavailable(why) => why.as_str(),
            Self::Unconfirmed {
                likely_applied: true,
            } => "unconfirmed_applied",
            Self::Unconfirmed {
                likely_applied: false,
            } => "unconfirmed",
        }
    }

    /// Whether the credential was good and the password was not: counts against the row
    /// (`redeem_max_refusals`).
    pub(crate) fn is_refused_password(&self) -> bool {
        matches!(
            self,
            Self::Mismatch
                | Self::PolicyViolations(_)
                | Self::PasswordReused { .. }
                | Self::ProviderRejected { .. }
        )
    }

    /// What the caller of `complete_reset` sees.
    pub(crate) fn into_result(self) -> Result<Completed, CompleteError> {
        match self {
            Self::Completed(done) => Ok(done),
            Self::Refused(_) => Err(InvalidLink.into()),
            Self::Throttled => Err(CompleteError::Throttled),
            Self::Mismatch => Err(CompleteError::Mismatch),
            Self::PolicyViolations(violations) => Err(CompleteError::PolicyViolations(violations)),
            Self::PasswordReused { depth } => Err(CompleteError::PasswordReused { depth }),
            Self::ProviderRejected { message_key } => {
                Err(CompleteError::ProviderRejected { message_key })
            }
            Self::Unavailable(_) => Err(CompleteError::TryAgainLater),
            Self::Unconfirmed { likely_applied } => {
                Err(CompleteError::Unconfirmed { likely_applied })
            }
        }
    }
}

/// A credential that got no further than verification, with the tenant and app of its row
/// when one was found (for the audit trail only).
#[derive(Debug)]
pub(crate) struct Stopped {
    pub(crate) outcome: Outcome,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) client: Option<ClientId>,
}

impl Stopped {
    /// Stopped before any row was found.
    pub(crate) fn anonymous(outcome: impl Into<Outcome>) -> Self {
        Self {
            outcome: outcome.into(),
            tenant: None,
            client: None,
        }
    }

    /// Stopped at `row`.
    pub(crate) fn at(row: &ResetToken, outcome: impl Into<Outcome>) -> Self {
        Self {
            outcome: outcome.into(),
            tenant: Some(row.tenant_id.clone()),
            client: Some(row.client_id.clone()),
        }
    }

    /// Stopped at a credential of `tenant`.
    pub(crate) fn of_tenant(tenant: &TenantId, outcome: impl Into<Outcome>) -> Self {
        Self {
            outcome: outcome.into(),
            tenant: Some(tenant.clone()),
            client: None,
        }
    }
}
