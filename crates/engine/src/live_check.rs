//! [`Engine::check_password`]: the live check behind `POST /v1/password-resets/{token}/check`,
//! for the rules a page cannot run itself (strength, blocklist, personal information, the
//! JavaScript rule), and its code-mode twin [`Engine::check_code_password`]. Reads the link
//! (or the flow and code) like [`Engine::view_token`] and consumes nothing: no
//! attempt counted against the token's refusals, no history lookup or argon2 work, no
//! provider call, the candidate neither stored nor logged. Counted per token (see
//! [`CHECKS_PER_TOKEN_PER_HOUR`]).

use passgate_policy::{CheckContext, Violation};
use secrecy::SecretString;

use crate::{
    engine::Engine,
    error::PasswordCheckError,
    flow::{Usable, Verified},
    policy_check::check_policy,
};

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
        self.check_verified(&verified, password).await
    }

    /// [`Self::check_password`] for a code-mode reset: the flow id and the code the user
    /// typed on the code page (a wrong code counts against the flow's attempts there too).
    pub async fn check_code_password(
        &self,
        flow_id: &str,
        code: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        let verified = self
            .read_code(flow_id, code, "live password check refused")
            .await?;
        self.check_verified(&verified, password).await
    }

    /// The check itself, counted against the reset's hourly budget of live checks.
    async fn check_verified(
        &self,
        verified: &Verified,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
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
