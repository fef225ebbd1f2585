//! The crate's one error type. Messages name what failed and never carry a code, verifier,
//! secret or token.

/// Why a sign-in through the identity provider did not happen.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum OidcError {
    /// The configuration cannot work (bad issuer URL, plain HTTP to a remote host, …).
    #[error("OIDC configuration: {0}")]
    Config(String),
    /// The provider could not be reached or did not answer in time.
    #[error("the identity provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider answered something that is not what the protocol says.
    #[error("the identity provider answered unexpectedly: {0}")]
    BadResponse(String),
    /// The token endpoint refused the code (`invalid_grant`, `invalid_client`, …).
    #[error("the identity provider refused the sign-in: {error}")]
    TokenRefused {
        /// The OAuth error code, as sent (at most 64 characters).
        error: String,
    },
    /// The ID token failed a check; the reason names the check.
    #[error("the ID token was refused: {0}")]
    InvalidIdToken(&'static str),
}
