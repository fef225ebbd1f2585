//! [`IdpError`]: every way a provider call can end badly, named by cause, plus the
//! classification the reset engine acts on (retry later, verify, or tell the user).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Why a provider call failed. Messages quoted from providers are truncated and never contain
/// request bodies, so no password, token or client secret can reach `Display` or `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdpError {
    /// Auth0 `PasswordStrengthError`: the connection's strength policy rejected the password.
    #[error("the provider rejected the password as too weak")]
    PasswordStrength,
    /// Auth0 `PasswordHistoryError` (or Janrain code 214/352): the password was used before.
    #[error("the provider rejected the password because it was used before")]
    PasswordHistory,
    /// Auth0 `PasswordDictionaryError`: the password is in the provider's dictionary.
    #[error("the provider rejected the password as too common")]
    PasswordDictionary,
    /// Auth0 `PasswordNoUserInfoError`: the password contains the user's own data.
    #[error("the provider rejected the password because it contains user information")]
    PasswordNoUserInfo,
    /// Janrain form validation (code 390) on the new-password fields; the messages are the
    /// provider's localized texts, keyed by field name.
    #[error("the provider rejected the new password: {}", fields.join(", "))]
    PasswordRejected {
        /// `field: message` pairs from `invalid_fields`.
        fields: Vec<String>,
    },
    /// 400 or an equivalent provider-level "invalid argument": our request was wrong.
    #[error("the provider rejected the request ({code}): {message}")]
    BadRequest {
        /// Machine code (`errorCode`, `error`, or the Janrain code), or `-` when absent.
        code: String,
        /// The provider's message, truncated.
        message: String,
    },
    /// 401: the client credentials or the access token were refused.
    #[error("the provider refused our credentials: {message}")]
    Unauthorized {
        /// The provider's message, truncated.
        message: String,
    },
    /// 403: authenticated but not allowed (missing scope, missing client grant).
    #[error("the provider forbade the call: {message}")]
    Forbidden {
        /// The provider's message, truncated.
        message: String,
    },
    /// 404: the user (or another addressed object) does not exist.
    #[error("the provider does not know this user")]
    NotFound,
    /// The email matched more than one user in the tenant's connection.
    #[error("{count} provider users share this email in the connection")]
    DuplicateUsers {
        /// How many matched.
        count: usize,
    },
    /// 429 after the bounded retries (or a wait longer than allowed).
    #[error("the provider is rate limiting us{}", reset_at.map(|t| format!(" until {t}")).unwrap_or_default())]
    RateLimited {
        /// When the provider says capacity comes back (`x-ratelimit-reset`), if it said.
        reset_at: Option<DateTime<Utc>>,
        /// The `Retry-After` the provider sent, if any.
        retry_after: Option<Duration>,
    },
    /// Janrain 510 (too many simultaneous calls) or 480 (feature disabled) after retries.
    #[error("the provider is overloaded (code {code})")]
    Overloaded {
        /// The Janrain code (510 or 480).
        code: u32,
    },
    /// 5xx after the bounded retries (reads and safe writes only; see [`IdpError::Ambiguous`]).
    #[error("the provider failed with HTTP {status}")]
    Server {
        /// The HTTP status.
        status: u16,
    },
    /// The call timed out and could not have changed anything (a read, or a safe write).
    #[error("the provider did not answer in time")]
    Timeout,
    /// A write may or may not have been applied: it timed out or failed after being sent,
    /// or the provider answered 5xx. The engine must verify (for example by reading
    /// `last_password_reset`) instead of blindly repeating it.
    #[error("the outcome of `{operation}` is unknown: {reason}")]
    Ambiguous {
        /// The operation that was in flight.
        operation: &'static str,
        /// Why the outcome is unknown.
        reason: String,
    },
    /// No connection could be established (DNS, refused, TLS): nothing was sent.
    #[error("could not connect to the provider: {message}")]
    Connect {
        /// The transport error, without URL.
        message: String,
    },
    /// The configured provider host is outside the allowlist; no connection was attempted.
    #[error(
        "provider host `{host}` is not allowed (not a known provider domain nor a configured custom domain)"
    )]
    DomainNotAllowed {
        /// The refused host (or the whole value when it did not parse).
        host: String,
    },
    /// The client configuration is unusable (empty client id, bad URL…).
    #[error("invalid provider configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// Janrain: the account does not exist (`no_such_account`).
    #[error("the provider has no account with this email")]
    NoSuchAccount,
    /// Janrain: the emailed code is unknown, already used, or bound to another client.
    #[error("the reset code is invalid or already used")]
    InvalidCode,
    /// Janrain 415: the emailed code has expired.
    #[error("the reset code has expired")]
    ExpiredCode,
    /// Janrain 414: the access token obtained from the code has expired.
    #[error("the provider access token has expired")]
    ExpiredToken,
    /// Any other Janrain `stat:error` reply.
    #[error("Janrain error {code} ({error}): {description}")]
    Janrain {
        /// Numeric Janrain code.
        code: u32,
        /// Machine string (`error`).
        error: String,
        /// `message` or `error_description`, truncated.
        description: String,
    },
    /// The provider answered a redirect, which we never follow.
    #[error("the provider answered a redirect (HTTP {status}), which is never followed")]
    Redirected {
        /// The 3xx status.
        status: u16,
    },
    /// The provider answered something the contract does not describe.
    #[error("unexpected provider response (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// What did not match.
        reason: String,
    },
    /// A moving tenant's source provider (Janrain) is in an outage (its own circuit is open,
    /// or the call failed as an outage does): retry later. Its target may be well, so this
    /// does not count against the tenant's circuit.
    #[error("the provider the tenant is moving from is unavailable: {reason}")]
    SourceUnavailable {
        /// The outage seen, or that the source's circuit is open.
        reason: String,
    },
    /// This provider does not support the operation (e.g. tickets on Janrain).
    #[error("the provider does not support `{operation}`")]
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
    },
}

impl IdpError {
    /// Trying the same call again later may succeed, and doing so cannot apply a change twice.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Overloaded { .. }
                | Self::Server { .. }
                | Self::Timeout
                | Self::Connect { .. }
                | Self::SourceUnavailable { .. }
        )
    }

    /// The call definitely failed and repeating it unchanged will fail again: report it.
    /// Neither retryable nor [`IdpError::Ambiguous`].
    pub fn is_definite_failure(&self) -> bool {
        !self.is_retryable() && !self.is_ambiguous()
    }

    /// The change may have been applied; verify before retrying.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Ambiguous { .. })
    }

    /// The provider's password policy refused the password: ask the user for another one.
    pub fn is_policy_rejection(&self) -> bool {
        matches!(
            self,
            Self::PasswordStrength
                | Self::PasswordHistory
                | Self::PasswordDictionary
                | Self::PasswordNoUserInfo
                | Self::PasswordRejected { .. }
        )
    }
}

/// Longest provider message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// Cuts a provider message to a bounded length so a huge body cannot flood logs.
pub(crate) fn truncate_message(message: &str) -> String {
    let mut out: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}
