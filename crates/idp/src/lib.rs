//! Passgate's identity-provider clients. The reset engine talks to every provider through
//! one trait, [`IdentityProvider`], shaped by the reset flows (find the user, set a password,
//! hand out a provider ticket, let the provider mail a link, redeem an emailed code), and
//! gets one error type, [`IdpError`], classified for its decisions (retry, verify, report).
//!
//! Security boundaries live here: a provider host must pass the allowlist ([`HostPolicy`])
//! before a client exists, redirects are never followed, and passwords, tokens and client
//! secrets stay in [`secrecy::SecretString`] and out of logs and error text.
//!
//! # Layout
//! - [`provider`]: the [`IdentityProvider`] trait.
//! - [`types`]: plain request and result types ([`ProviderUser`], [`TicketRequest`], …).
//! - [`error`]: [`IdpError`] and its classification.
//! - [`domain`]: the provider-host allowlist.
//! - [`http`]: timeouts, the retry loop and backoff ([`HttpConfig`], [`RetryPolicy`]).
//! - [`auth0`]: [`Auth0Client`] (Authentication + Management API v2).
//! - [`janrain`]: [`JanrainClient`] (Capture native forgot-password flow).
//! - [`migration`]: [`MovingProvider`], one provider over a source and a target while a
//!   tenant moves (Janrain → Auth0).
//! - [`pace`]: the per-tenant limiter fed by `x-ratelimit-*` ([`Priority`], [`PaceStats`]).
//! - [`clock`]: [`Clock`], so rate-limit reset times are testable.

pub mod auth0;
pub mod clock;
pub mod domain;
pub mod error;
pub mod http;
pub mod janrain;
pub mod migration;
pub mod pace;
pub mod provider;
pub mod types;

pub use auth0::{Auth0Client, Auth0Config, CreateOutcome, CreatedUser, NewAuth0User};
pub use clock::{Clock, FixedClock, SystemClock};
pub use domain::HostPolicy;
pub use error::IdpError;
pub use http::{HttpConfig, RetryPolicy};
pub use janrain::{JanrainClient, JanrainConfig, JanrainEntity};
pub use migration::{
    Created, Located, MigrationPolicy, MoveStats, MovingProvider, NewUser, PasswordChanged,
    Placement, ServedBy,
};
pub use pace::{PaceStats, Priority};
pub use provider::IdentityProvider;
pub use types::{
    Capabilities, PasswordChangeTicket, ProviderKind, ProviderUser, ResetAuthorization,
    TicketRequest,
};

/// Installs ring as the process-wide rustls crypto provider. Idempotent: later calls (and a
/// provider installed by someone else first) are fine. Call it at the top of `main`; the
/// clients also call it before building their HTTP client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: one provider is then in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
