//! Auth0 ticket mode: Auth0 creates a single-use password-change URL for the user
//! (`POST /api/v2/tickets/password-change`), and Passgate sends it in the tenant's branded
//! mail. Auth0 hosts the page, so Passgate redeems nothing.

use async_trait::async_trait;
use passgate_idp::TicketRequest;
use secrecy::ExposeSecret;

use super::{IssueRequest, Issued, Issuer, Redemption, ResetStrategy, minutes, resettable_user};
use crate::{error::EngineError, render::MailContent};

/// Auth0 ticket mode.
#[derive(Debug)]
pub(crate) struct Auth0Ticket;

#[async_trait]
impl ResetStrategy for Auth0Ticket {
    fn name(&self) -> &'static str {
        "auth0_ticket"
    }

    fn redemption(&self) -> Redemption {
        Redemption::ProviderHosted
    }

    async fn issue(
        &self,
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let config = &request.tenant.config;
        let provider = issuer.providers.provider(config).await?;
        let user = match resettable_user(provider.as_ref(), request).await? {
            Ok(user) => user,
            Err(issued) => return Ok(issued),
        };
        let ttl = config.reset.token_ttl.duration();
        let ticket = provider
            .create_password_change_ticket(&TicketRequest {
                user_id: user.user_id.clone(),
                result_url: request.redirect_uri.map(str::to_owned),
                client_id: None,
                ttl: Some(ttl),
                mark_email_as_verified: true,
            })
            .await?;
        let content = MailContent::ResetTicket {
            url: ticket.url.expose_secret().to_owned(),
            expires_in_minutes: minutes(ttl),
        };
        issuer.mail(request, &user.email, &content)?;
        Ok(Issued::Mailed)
    }
}
