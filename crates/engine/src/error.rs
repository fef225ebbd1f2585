//! [`EngineError`]: the engine's one error type, plus the typed outcomes of the two user-facing
//! steps ([`RequestError`], [`CompleteError`], [`InvalidLink`]) that the web layer maps to pages
//! and problem+json documents.
//!
//! `Display` texts are for operators; none contains a password, a token, a code or an email.

use passgate_idp::IdpError;
use passgate_policy::Violation;
use passgate_store::StoreError;

use crate::{mail::SendError, sealing::SealingError, secret_token::RandomSourceFailed};

/// Why an engine operation failed internally (workers, directories, renderers).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed or refused.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The identity provider failed (classified by [`IdpError`]'s predicates).
    #[error("identity provider: {0}")]
    Provider(#[from] IdpError),
    /// Sealing or opening a value at rest failed (wrong key, tampering).
    #[error("sealing: {0}")]
    Sealing(#[from] SealingError),
    /// The OS random source failed.
    #[error(transparent)]
    Random(#[from] RandomSourceFailed),
    /// A mail could not be rendered from the tenant's theme.
    #[error("rendering mail: {0}")]
    Render(String),
    /// A mail could not be handed to the transport.
    #[error("mail transport: {0}")]
    Mail(#[from] SendError),
    /// The tenant is not (or no longer) configured or routable.
    #[error("tenant unavailable: {0}")]
    TenantUnavailable(String),
    /// The tenant's provider binding or secret is missing or unusable.
    #[error("provider binding of tenant {tenant}: {reason}")]
    ProviderBinding {
        /// The tenant.
        tenant: String,
        /// What is wrong (never the secret).
        reason: String,
    },
    /// A stored job or mail payload does not parse (written by another version?).
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// Which payload.
        what: &'static str,
        /// What is wrong (no payload contents).
        reason: String,
    },
    /// The tenant's provider circuit is open after repeated outages; retry after the cooldown.
    #[error("provider circuit of tenant {0} is open")]
    CircuitOpen(String),
    /// Finished work (a sent mail, a done job) could not be recorded with its group: the
    /// group's database error, as text.
    #[error("not recorded: {0}")]
    Unrecorded(String),
    /// A blocking task (hashing, policy check) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

impl EngineError {
    /// Whether running the same job again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Provider(err) => err.is_retryable(),
            Self::Store(StoreError::Database(_)) => true,
            Self::Mail(SendError::Transient(_)) => true,
            Self::TenantUnavailable(_) | Self::Task(_) | Self::CircuitOpen(_) => true,
            Self::Unrecorded(_) => true,
            _ => false,
        }
    }
}

/// Why a reset request was refused outright. Only problems that are not about the account can
/// be refused; everything else answers [`crate::RequestAccepted`].
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The client id is malformed or names no active tenant.
    #[error("unknown client id")]
    UnknownClient,
    /// The redirect URI is not one of the tenant's allowlisted URIs.
    #[error("redirect_uri is not allowed for this client")]
    RedirectNotAllowed,
    /// The engine could not record the request (database down). The answer is the same for
    /// every account, so it reveals nothing.
    #[error("the request could not be recorded: {0}")]
    Unavailable(#[source] EngineError),
}

/// The one answer for every link or code that cannot be used: unknown, malformed, expired,
/// used, superseded, killed after too many wrong codes or refused passwords, bound to another
/// tenant, or whose account changed since issue. One variant, so no page can tell these apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the reset link or code is invalid or has expired")]
pub struct InvalidLink;

/// Why a live password check (`Engine::check_password`) gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    /// See [`InvalidLink`]: unknown, expired or used link.
    #[error(transparent)]
    InvalidLink(#[from] InvalidLink),
    /// Too many live checks for this link.
    #[error("too many checks")]
    Throttled,
    /// The database or the rule's worker pool is unavailable.
    #[error("the password could not be checked now")]
    TryAgainLater,
}

/// Why a typed code was not accepted on the code page (code mode), before the user chooses a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum CodeCheckError {
    /// The code does not match. The flow stays usable until its attempts run out; each
    /// wrong code counts as one.
    #[error("the code does not match")]
    Wrong,
    /// See [`InvalidLink`]: unknown flow, expired, used, or out of attempts.
    #[error(transparent)]
    InvalidLink(#[from] InvalidLink),
    /// Too many completion attempts from this address.
    #[error("too many attempts")]
    Throttled,
    /// The database is unavailable; nothing was counted.
    #[error("the code could not be checked now")]
    TryAgainLater,
}

/// Why a completion did not change the password.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    /// See [`InvalidLink`]. Nothing was sent to the provider.
    #[error(transparent)]
    InvalidLink(#[from] InvalidLink),
    /// The two passwords differ. Nothing was sent to the provider; the link stays usable.
    #[error("the password and its confirmation differ")]
    Mismatch,
    /// The tenant's rules refuse the password. The link stays usable.
    #[error("the password breaks {} rule(s) of the tenant's policy", .0.len())]
    PolicyViolations(Vec<Violation>),
    /// The password is one of the last passwords set through Passgate. The link stays usable.
    #[error("the password was used recently")]
    PasswordReused {
        /// How many previous passwords are remembered (for the message).
        depth: u8,
    },
    /// The provider's own policy refused the password. The link stays usable.
    #[error("the provider refused the password ({message_key})")]
    ProviderRejected {
        /// The message key to show, e.g. `provider.password_history`.
        message_key: &'static str,
    },
    /// The provider (or the database) is unavailable. Nothing changed; the link stays usable.
    #[error("temporarily unavailable, try again later")]
    TryAgainLater,
    /// The provider may have applied the change but did not confirm it. Never reported as
    /// success and never applied twice: the link is spent.
    #[error("the password change could not be confirmed")]
    Unconfirmed {
        /// Whether re-reading the account showed that the password did change.
        likely_applied: bool,
    },
    /// Too many attempts from this client address; try again later.
    #[error("too many attempts")]
    Throttled,
}
