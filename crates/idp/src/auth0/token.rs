//! The Management API token: fetched with client credentials, cached until shortly before it
//! expires, and refreshed by one caller while the others wait (single flight), because every
//! token request costs rate limit and the tenant's M2M quota.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::wire;
use crate::IdpError;
use crate::http::{Safety, Transport, no_throttle};

/// A token and when to stop using it.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub value: Arc<SecretString>,
    refresh_at: Instant,
}

/// The per-client cache. The mutex is held across the fetch: that is the single flight.
#[derive(Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache { .. }")
    }
}

/// The credentials a token request needs.
pub(crate) struct TokenRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
    pub audience: &'a str,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl TokenCache {
    /// A valid token: the cached one, or a fresh one fetched by exactly one caller.
    pub async fn get(
        &self,
        transport: &Transport,
        request: &TokenRequest<'_>,
    ) -> Result<Arc<SecretString>, IdpError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(Arc::clone(&token.value));
        }
        let fetched = fetch(transport, request).await?;
        let value = Arc::clone(&fetched.value);
        *slot = Some(fetched);
        Ok(value)
    }

    /// Drops `rejected` (a token the API refused) so the next call fetches a new one; a
    /// token another caller already replaced is left alone.
    pub async fn invalidate(&self, rejected: &Arc<SecretString>) {
        let mut slot = self.slot.lock().await;
        if slot
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(&t.value, rejected))
        {
            *slot = None;
        }
    }
}

async fn fetch(transport: &Transport, request: &TokenRequest<'_>) -> Result<CachedToken, IdpError> {
    let url = transport.url("/oauth/token");
    let response = transport
        .execute("auth0.token", Safety::Idempotent, no_throttle, |client| {
            client.post(&url).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", request.client_id),
                ("client_secret", request.client_secret.expose_secret()),
                ("audience", request.audience),
            ])
        })
        .await?;
    if response.status != 200 {
        return Err(wire::auth_api_error(&response));
    }
    let parsed: TokenResponse = wire::parse(&response, "token response")?;
    let lifetime = Duration::from_secs(parsed.expires_in);
    // Stop using the token a little before it expires: a tenth of its life, at most 60 s.
    let leeway = (lifetime / 10).min(Duration::from_secs(60));
    tracing::debug!(
        expires_in = parsed.expires_in,
        "fetched a Management API token"
    );
    Ok(CachedToken {
        value: Arc::new(SecretString::from(parsed.access_token)),
        refresh_at: Instant::now() + lifetime.saturating_sub(leeway),
    })
}
