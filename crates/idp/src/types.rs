//! Plain request and result types of the provider operations. No HTTP types appear here, so
//! the reset engine can use them without knowing any wire format.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// Which provider family a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Auth0 (Authentication API + Management API v2).
    Auth0,
    /// Janrain / Akamai Identity Cloud (Capture native APIs).
    Janrain,
}

/// The operations a provider client can perform, so the engine picks a reset strategy
/// without `if provider == …` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// [`crate::IdentityProvider::find_user_by_email`] works.
    pub find_user: bool,
    /// [`crate::IdentityProvider::set_password`] works (the gateway sets the password itself).
    pub set_password: bool,
    /// [`crate::IdentityProvider::create_password_change_ticket`] works.
    pub change_password_ticket: bool,
    /// [`crate::IdentityProvider::send_reset_email`] works (the provider mails the user).
    pub provider_reset_email: bool,
    /// [`crate::IdentityProvider::redeem_reset_code`] and
    /// [`crate::IdentityProvider::set_password_with_authorization`] work (Janrain's emailed code).
    pub reset_code: bool,
}

/// A user as the provider reports it, restricted to the tenant's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUser {
    /// The provider's user id, e.g. `auth0|63d17c4b…` (needs percent-encoding in URLs).
    pub user_id: String,
    /// The email the provider stores (Auth0 stores database emails lowercased).
    pub email: String,
    /// The connection (database) the user was found in: the tenant's configured one.
    pub connection: String,
    /// Display name, when the provider has one.
    pub name: Option<String>,
    /// Blocked users must not be offered a reset.
    pub blocked: bool,
    /// Whether the provider considers the email verified.
    pub email_verified: bool,
    /// When the password last changed; the engine compares it to decide whether an
    /// ambiguous write was applied.
    pub last_password_reset: Option<DateTime<Utc>>,
}

/// What to put in an Auth0 password-change ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    /// The user the ticket resets.
    pub user_id: String,
    /// Where to send the user after the change (Classic Universal Login only); never sent
    /// together with `client_id`, which the contract forbids in most setups.
    pub result_url: Option<String>,
    /// Application whose branding the reset page shows (New Universal Login).
    pub client_id: Option<String>,
    /// Ticket lifetime; `None` keeps the provider default (5 days).
    pub ttl: Option<Duration>,
    /// Mark the email verified once the password is changed.
    pub mark_email_as_verified: bool,
}

/// A single-use password-change URL. It is a bearer credential, hence secret.
pub struct PasswordChangeTicket {
    /// The ticket URL to redirect the user to.
    pub url: SecretString,
}

impl fmt::Debug for PasswordChangeTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordChangeTicket { url: [redacted] }")
    }
}

/// What a redeemed Janrain reset code yields: a short-lived user access token that may set a
/// new password without the old one.
pub struct ResetAuthorization {
    /// The user access token (bearer credential).
    pub access_token: SecretString,
    /// Its lifetime as the provider reported it.
    pub expires_in: Duration,
}

impl fmt::Debug for ResetAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetAuthorization")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}
