//! [`Engine::check_password`]: the live check behind `POST /v1/password-resets/{token}/check`,
//! for the rules a page cannot run itself (strength, blocklist, personal information, the
//! JavaScript rule). Reads the link like [`Engine::view_token`] and consumes nothing: no
//! attempt counted against the token's refusals, no history lookup or argon2 work, no
//! provider call, the candidate neither stored nor logged. Counted per token (see
//! [`CHECKS_PER_TOKEN_PER_HOUR`]).

use passgate_policy::{CheckContext, Violation};
use secrecy::SecretString;

use crate::{engine::Engine, error::PasswordCheckError, flow::Usable, policy_check::check_policy};

pub use crate::rate_limit::CHECKS_PER_TOKEN_PER_HOUR;

impl Engine {
    /// Every policy violation of `password` for the usable link `token_text`, with the
    /// link's own context (account email, tenant name, locale), exactly as the complete step
    /// would find them before its history check.
    pub async fn check_password(
        &self,
        token_text: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        let verified = self
            .read_link(token_text, "live password check refused")
            .await?;
        let Usable::Row(row) = &verified.usable else {
            return Err(crate::error::InvalidLink.into());
        };
        let config = &verified.tenant.config;
        match self.limits.hit_check_token(&config.id, &row.hash).await {
            Ok(true) => {}
            Ok(false) => return Err(PasswordCheckError::Throttled),
            Err(_) => return Err(PasswordCheckError::TryAgainLater),
        }
        let context = CheckContext::new(config.display_name.clone(), row.locale.clone())
            .with_email(row.email.clone());
        check_policy(&verified.tenant, password, context)
            .await
            .map_err(|_| PasswordCheckError::TryAgainLater)
    }
}
