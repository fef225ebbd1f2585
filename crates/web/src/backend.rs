//! [`ResetBackend`]: the one seam between the HTTP layer and the reset engine. Handlers call
//! these three methods and nothing else of the engine; [`passgate_engine::Engine`] implements
//! it directly, and in-process tests may substitute their own.

use async_trait::async_trait;
use passgate_engine::{
    CompleteError, CompleteInput, Completed, Engine, InvalidLink, RequestAccepted, RequestError,
    RequestInput, TokenView,
};

/// What the pages and the public API need from the engine.
#[async_trait]
pub trait ResetBackend: Send + Sync + std::fmt::Debug {
    /// "Send me a reset link": the same answer for every account.
    async fn request_reset(&self, input: RequestInput) -> Result<RequestAccepted, RequestError>;
    /// Describes a usable link without consuming it (mail scanners open links).
    async fn view_token(&self, token: &str) -> Result<TokenView, InvalidLink>;
    /// Sets the new password (the only step that consumes a token).
    async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError>;
}

#[async_trait]
impl ResetBackend for Engine {
    async fn request_reset(&self, input: RequestInput) -> Result<RequestAccepted, RequestError> {
        Engine::request_reset(self, input).await
    }

    async fn view_token(&self, token: &str) -> Result<TokenView, InvalidLink> {
        Engine::view_token(self, token).await
    }

    async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError> {
        Engine::complete_reset(self, input).await
    }
}
