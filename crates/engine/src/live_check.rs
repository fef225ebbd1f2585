//! [`Engine::check_password`]: the live check behind `POST /v1/password-resets/{token}/check`,
//! for the rules a page cannot run itself (strength, blocklist, personal information, the
//! JavaScript rule). Reads the link like [`Engine::view_token`] and consumes nothing: no
//! attempt counted against the token's refusals, no history lookup or argon2 work, no
//! provider call, the candidate neither stored nor logged. Counted per token (see
//! [`CHECKS_PER_TOKEN_PER_HOUR`]).

use passgate_policy::{CheckContext, Violation};
use secrecy::SecretString;

use crate::{
    engine::Engine,
    error::PasswordCheckError,
    flow::{Presented, check_policy},
    rate_limit,
    secret_token::LinkToken,
    strategy::{self, Redemption},
};

/// Live checks one link may ask for per hour: a debounced page checks about once per pause
/// in typing, so this leaves room for slow typists while capping what a leaked link offers
/// as a policy oracle.
pub const CHECKS_PER_TOKEN_PER_HOUR: u32 = 300;

impl Engine {
    /// Every policy violation of `password` for the usable link `token_text`, with the
    /// link's own context (account email, tenant name, locale), exactly as the complete step
    /// would find them before its history check.
    pub async fn check_password(
        &self,
        token_text: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        let presented = Presented::Link(LinkToken::parse(token_text));
        let verified = presented.verify(&self.inner).await.map_err(|refused| {
            tracing::info!(
                target: crate::SECURITY_TARGET,
                tenant = refused.tenant.as_ref().map(|t| t.as_str()),
                outcome = refused.reason,
                "live password check refused"
            );
            PasswordCheckError::InvalidLink(crate::error::InvalidLink)
        })?;
        if strategy::for_tenant(&verified.tenant.config).redemption() != Redemption::PassgateToken {
            return Err(crate::error::InvalidLink.into());
        }
        let config = &verified.tenant.config;
        match rate_limit::hit_check_token(&self.inner, &config.id, &verified.row.hash).await {
            Ok(true) => {}
            Ok(false) => return Err(PasswordCheckError::Throttled),
            Err(_) => return Err(PasswordCheckError::TryAgainLater),
        }
        let context = CheckContext::new(config.display_name.clone(), verified.row.locale.clone())
            .with_email(verified.row.email.clone());
        check_policy(&verified.tenant, password, context)
            .await
            .map_err(|_| PasswordCheckError::TryAgainLater)
    }
}
