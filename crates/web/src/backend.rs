//! [`ResetBackend`]: the one seam between the HTTP layer and the reset engine. Handlers call
//! these methods and nothing else of the engine; [`passgate_engine::Engine`] implements
//! it directly, and in-process tests may substitute their own.

use std::net::IpAddr;

use async_trait::async_trait;
use passgate_engine::error::CodeCheckError;
use passgate_engine::{
    CompleteError, CompleteInput, Completed, Engine, InvalidLink, PasswordCheckError,
    RequestAccepted, RequestError, RequestInput, TokenView,
};
use passgate_policy::Violation;
use secrecy::SecretString;

/// What the pages and the public API need from the engine.
#[async_trait]
pub trait ResetBackend: Send + Sync + std::fmt::Debug {
    /// "Send me a reset link": the same answer for every account.
    async fn request_reset(&self, input: RequestInput) -> Result<RequestAccepted, RequestError>;
    /// Describes a usable link without consuming it (mail scanners open links).
    async fn view_token(&self, token: &str) -> Result<TokenView, InvalidLink>;
    /// Janrain: whether the landing may keep `code` for `client_id`'s tenant (not spent, not
    /// redeemed for another tenant). Changes nothing.
    async fn view_janrain_code(&self, client_id: &str, code: &str) -> Result<(), InvalidLink>;
    /// Sets the new password (the only step that consumes a token).
    async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError>;
    /// The live check of a candidate for a usable link: its policy violations. Consumes
    /// nothing, stores nothing. A backend without it answers "try again later".
    async fn check_password(
        &self,
        token: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        let _ = (token, password);
        Err(PasswordCheckError::TryAgainLater)
    }
    /// [`Self::check_password`] for a code-mode reset (flow id and the typed code).
    async fn check_code_password(
        &self,
        flow_id: &str,
        code: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        let _ = (flow_id, code, password);
        Err(PasswordCheckError::TryAgainLater)
    }
    /// Code mode: checks a typed code before the new-password page (a wrong one counts as an
    /// attempt). A backend without it accepts here and lets `complete_reset` decide.
    async fn check_code(
        &self,
        flow_id: &str,
        code: &str,
        client_ip: IpAddr,
        request_id: &str,
    ) -> Result<(), CodeCheckError> {
        let _ = (flow_id, code, client_ip, request_id);
        Ok(())
    }
}

#[async_trait]
impl ResetBackend for Engine {
    async fn request_reset(&self, input: RequestInput) -> Result<RequestAccepted, RequestError> {
        Engine::request_reset(self, input).await
    }

    async fn view_token(&self, token: &str) -> Result<TokenView, InvalidLink> {
        Engine::view_token(self, token).await
    }

    async fn view_janrain_code(&self, client_id: &str, code: &str) -> Result<(), InvalidLink> {
        Engine::view_janrain_code(self, client_id, code).await
    }

    async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError> {
        Engine::complete_reset(self, input).await
    }

    async fn check_password(
        &self,
        token: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        Engine::check_password(self, token, password).await
    }

    async fn check_code_password(
        &self,
        flow_id: &str,
        code: &str,
        password: &SecretString,
    ) -> Result<Vec<Violation>, PasswordCheckError> {
        Engine::check_code_password(self, flow_id, code, password).await
    }

    async fn check_code(
        &self,
        flow_id: &str,
        code: &str,
        client_ip: IpAddr,
        request_id: &str,
    ) -> Result<(), CodeCheckError> {
        Engine::check_code(self, flow_id, code, client_ip, request_id).await
    }
}
