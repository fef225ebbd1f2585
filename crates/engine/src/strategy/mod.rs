//! One [`ResetStrategy`] per tenant mode, chosen by an exhaustive `match` in [`for_tenant`]:
//! the rest of the engine never asks which provider or mode it is dealing with.
//!
//! - [`hosted`]: Passgate's token (link) or code, Passgate's mail and page, then the
//!   provider's `set_password`.
//! - [`auth0_ticket`]: an Auth0 password-change ticket in Passgate's branded mail.
//! - [`auth0_email`]: Auth0 mails its own link.
//! - [`janrain`]: Janrain mails a link with a code to Passgate's page.

pub(crate) mod auth0_email;
pub(crate) mod auth0_ticket;
pub(crate) mod hosted;
pub(crate) mod janrain;

use std::sync::OnceLock;

use async_trait::async_trait;
use passgate_idp::{IdentityProvider, Placement, ProviderUser};
use passgate_tenant::{ClientId, Delivery, LocaleTag, ResetMode, TenantConfig};

use crate::{
    email_address::SubmittedEmail,
    error::EngineError,
    guarded::GuardedProviders,
    outbox::Outbox,
    render::{MailContent, MailRenderer},
    secret_token::FlowId,
    settings::EngineSettings,
    staged_writes::StagedWrites,
    tenants::TenantRuntime,
    tokens::Tokens,
};

/// What issuing touches: the guarded providers, the token keys, the mail renderer and the
/// outbox's sealing, and the settings that build links. The rows it writes go to the
/// request's [`StagedWrites`].
#[derive(Clone, Copy)]
pub(crate) struct Issuer<'a> {
    pub(crate) providers: &'a GuardedProviders,
    pub(crate) tokens: &'a Tokens,
    pub(crate) renderer: &'a dyn MailRenderer,
    pub(crate) outbox: &'a Outbox,
    pub(crate) settings: &'a EngineSettings,
}

impl Issuer<'_> {
    /// Renders `content` in the tenant's theme and stages it, sealed, to `to`.
    pub(crate) fn mail(
        &self,
        request: &IssueRequest<'_>,
        to: &str,
        content: &MailContent,
    ) -> Result<(), EngineError> {
        let config = &request.tenant.config;
        let mail =
            self.renderer
                .render(config, request.locale, content, Some(request.request_id))?;
        request.writes.mail(self.outbox.seal(config, to, mail)?);
        Ok(())
    }
}

/// The background half of a request, as a strategy sees it.
#[derive(Debug)]
pub(crate) struct IssueRequest<'a> {
    pub(crate) tenant: &'a TenantRuntime,
    pub(crate) client: &'a ClientId,
    pub(crate) flow_id: &'a FlowId,
    pub(crate) email: &'a SubmittedEmail,
    pub(crate) locale: &'a LocaleTag,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) request_id: &'a str,
    /// Where a moving tenant's look-up found the address, set by the look-up for the audit
    /// event of this step (the address itself is never recorded).
    pub(crate) found_at: &'a OnceLock<Placement>,
    /// Where the strategy puts the rows it writes (tokens, mails): committed with the job.
    pub(crate) writes: &'a StagedWrites,
}

/// What the background half did (audit outcome; never shown to the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issued {
    /// A token or code was stored and Passgate's mail queued.
    Mailed,
    /// The provider was asked to mail its own link.
    ProviderMailed,
    /// No account with this email in the tenant's connection.
    UnknownUser,
    /// The account is blocked.
    Blocked,
}

impl Issued {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Mailed => "mailed",
            Self::ProviderMailed => "provider_mailed",
            Self::UnknownUser => "unknown_user",
            Self::Blocked => "blocked",
        }
    }
}

/// How a mode's credential comes back to Passgate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redemption {
    /// A Passgate link token or flow + code, redeemed by Passgate's page.
    PassgateToken,
    /// A provider code on Passgate's page (Janrain).
    ProviderCode,
    /// The provider hosts the page; Passgate never sees a credential.
    ProviderHosted,
}

/// One reset mode.
#[async_trait]
pub(crate) trait ResetStrategy: Send + Sync {
    /// Stable name, for audit details.
    fn name(&self) -> &'static str;
    /// How this mode's credential is redeemed.
    fn redemption(&self) -> Redemption;
    /// Looks the account up and issues whatever this mode sends.
    async fn issue(
        &self,
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError>;
}

/// The strategy for a tenant's configured mode and delivery.
pub(crate) fn for_tenant(config: &TenantConfig) -> &'static dyn ResetStrategy {
    match (config.reset.mode, config.reset.delivery) {
        (ResetMode::Hosted, Delivery::Link) => &hosted::HostedLink,
        (ResetMode::Hosted, Delivery::Code) => &hosted::HostedCode,
        (ResetMode::Auth0Ticket, _) => &auth0_ticket::Auth0Ticket,
        (ResetMode::Auth0Email, _) => &auth0_email::Auth0Email,
        (ResetMode::Janrain, _) => &janrain::Janrain,
    }
}

/// The user behind `email` if a reset may be offered: found in the tenant's connection,
/// not blocked, and stored under exactly this address (ASCII case-insensitive; no Unicode
/// folding, so `gıthub` never matches `github`).
pub(crate) async fn resettable_user(
    provider: &dyn IdentityProvider,
    request: &IssueRequest<'_>,
) -> Result<Result<ProviderUser, Issued>, EngineError> {
    let email = request.email;
    let located = provider.locate(&email.lookup_key()).await?;
    if let Some(placement) = located.placement {
        let _ = request.found_at.set(placement);
    }
    let Some(user) = located.user else {
        return Ok(Err(Issued::UnknownUser));
    };
    if !user.email.eq_ignore_ascii_case(&email.lookup_key()) {
        return Ok(Err(Issued::UnknownUser));
    }
    if user.blocked {
        return Ok(Err(Issued::Blocked));
    }
    Ok(Ok(user))
}

/// Minutes shown in a mail for a lifetime.
pub(crate) fn minutes(ttl: std::time::Duration) -> u32 {
    u32::try_from(ttl.as_secs().div_ceil(60)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
