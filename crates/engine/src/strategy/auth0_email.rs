//! Auth0 email mode: Auth0 mails its own reset link (`POST /dbconnections/change_password`).
//! Passgate still looks the user up first, so blocked accounts get nothing and the provider
//! is asked about the address it stores, never the string the user typed.

use async_trait::async_trait;

use super::{IssueRequest, Issued, Issuer, Redemption, ResetStrategy, resettable_user};
use crate::error::EngineError;

/// Auth0 email mode.
#[derive(Debug)]
pub(crate) struct Auth0Email;

#[async_trait]
impl ResetStrategy for Auth0Email {
    fn name(&self) -> &'static str {
        "auth0_email"
    }

    fn redemption(&self) -> Redemption {
        Redemption::ProviderHosted
    }

    async fn issue(
        &self,
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let provider = issuer.providers.provider(&request.tenant.config).await?;
        let user = match resettable_user(provider.as_ref(), request).await? {
            Ok(user) => user,
            Err(issued) => return Ok(issued),
        };
        provider.send_reset_email(&user.email).await?;
        Ok(Issued::ProviderMailed)
    }
}
