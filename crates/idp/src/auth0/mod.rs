//! The Auth0 client: Authentication API (`/oauth/token`, `/dbconnections/change_password`)
//! and Management API v2 (`users-by-email`, `PATCH users/{id}`, password-change tickets), per
//! `shared/specs/idp-contracts.md` part A.

mod binding;
mod create;
mod token;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::domain::{AUTH0_PLATFORM_SUFFIXES, HostPolicy, check_provider_host};
use crate::http::{HttpConfig, RawResponse, Safety, Transport, no_throttle};
use crate::{
    Capabilities, Clock, IdentityProvider, IdpError, PaceStats, PasswordChangeTicket, Priority,
    ProviderKind, ProviderUser, SystemClock, TicketRequest,
};
use token::{TokenCache, TokenRequest};

pub use create::{CreateOutcome, CreatedUser, NewAuth0User};

/// Everything needed to act on one tenant's Auth0 database connection.
#[derive(Debug, Clone)]
pub struct Auth0Config {
    /// Where API calls go: the canonical tenant domain (`acme.eu.auth0.com`), checked against
    /// [`HostPolicy`] before any connection.
    pub domain: String,
    /// The canonical tenant domain when `domain` is not it (a loopback simulator): the
    /// Management API audience is `https://{canonical_domain}/api/v2/`. `None`: `domain`'s host.
    pub canonical_domain: Option<String>,
    /// The custom domain users see (`login.acme.com`): sent as `auth0-custom-domain` on
    /// ticket requests, which a tenant with several verified custom domains requires. Never
    /// an audience.
    pub custom_domain: Option<String>,
    /// Machine-to-machine application used for the Management API.
    pub client_id: String,
    /// The product's own Auth0 application (one with the database connection enabled):
    /// the `client_id` of `/dbconnections/change_password` and of New-UL tickets. `None`
    /// falls back to the M2M `client_id`, which works only if that has the connection.
    pub app_client_id: Option<String>,
    /// The tenant uses New Universal Login: tickets name `app_client_id` (the page returns
    /// through the application) instead of a `result_url`, which New UL ignores.
    pub new_universal_login: bool,
    /// Its secret (sent only to the allowed domain).
    pub client_secret: SecretString,
    /// The database connection *name* the tenant's users live in.
    pub connection: String,
    /// Management API audience override; `None` means `https://{canonical domain}/api/v2/`.
    pub audience: Option<String>,
    /// Custom domains and the loopback test switch.
    pub hosts: HostPolicy,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

impl Auth0Config {
    /// Refuses what a real tenant would refuse (host not allowed, empty ids, custom domain
    /// as audience, New UL without an application, …) without building a client: the admin
    /// API runs it on every binding write, so a stored binding builds.
    pub fn check(&self) -> Result<(), IdpError> {
        self.checked().map(|_| ())
    }

    /// The checked base URL and audience.
    fn checked(&self) -> Result<(url::Url, String), IdpError> {
        let base = check_provider_host(&self.domain, AUTH0_PLATFORM_SUFFIXES, &self.hosts)?;
        if self.client_id.trim().is_empty() || self.connection.trim().is_empty() {
            return Err(IdpError::InvalidConfig {
                reason: "Auth0 client_id and connection must not be empty".into(),
            });
        }
        let audience = binding::audience(self, &base)?;
        binding::check_combination(self)?;
        Ok((base, audience))
    }
}

/// Auth0 as an [`IdentityProvider`]. Cheap to share behind an `Arc`; the token cache lives
/// inside, so use one client per tenant.
#[derive(Debug)]
pub struct Auth0Client {
    client_id: String,
    app_client_id: Option<String>,
    new_universal_login: bool,
    custom_domain: Option<String>,
    client_secret: SecretString,
    connection: String,
    audience: String,
    transport: Transport,
    tokens: TokenCache,
}

/// Characters escaped in a user id path segment: everything but `A-Za-z0-9-_.~`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Auth0Client {
    /// Checks the domain against the allowlist (no connection is made) and builds the client.
    pub fn new(config: Auth0Config) -> Result<Self, IdpError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`Auth0Client::new`], reading wall-clock time (rate-limit resets) from `clock`.
    pub fn with_clock(config: Auth0Config, clock: Arc<dyn Clock>) -> Result<Self, IdpError> {
        let (base, audience) = config.checked()?;
        Ok(Self {
            client_id: config.client_id,
            app_client_id: config.app_client_id,
            new_universal_login: config.new_universal_login,
            custom_domain: config.custom_domain,
            client_secret: config.client_secret,
            connection: config.connection,
            audience,
            transport: Transport::new(base, config.http, clock)?,
            tokens: TokenCache::default(),
        })
    }

    /// A Management API token (cached; exposed for diagnostics and the token-cache tests).
    pub async fn management_token(&self) -> Result<Arc<SecretString>, IdpError> {
        self.tokens
            .get(&self.transport, &self.token_request())
            .await
    }

    fn token_request(&self) -> TokenRequest<'_> {
        TokenRequest {
            client_id: &self.client_id,
            client_secret: &self.client_secret,
            audience: &self.audience,
        }
    }

    /// Runs a Management API call with a bearer token; a 401 (token revoked or expired
    /// early) drops the cached token and tries once more with a fresh one. A 401 means the
    /// call was not applied, so this is safe for writes too.
    async fn management(
        &self,
        operation: &'static str,
        safety: Safety,
        priority: Priority,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<RawResponse, IdpError> {
        let mut refreshed = false;
        loop {
            let token = self.management_token().await?;
            let response = self
                .transport
                .execute_paced(operation, safety, priority, no_throttle, |client| {
                    build(client, token.expose_secret())
                })
                .await?;
            if response.status == 401 && !refreshed {
                tracing::debug!(
                    operation,
                    "Management API refused the token; fetching a new one"
                );
                self.tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Ok(response);
        }
    }
}

#[derive(Deserialize)]
struct TicketResponse {
    ticket: String,
}

#[async_trait]
impl IdentityProvider for Auth0Client {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Auth0
    }

    fn pace_stats(&self) -> Option<PaceStats> {
        Some(self.transport.pace_stats())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            find_user: true,
            set_password: true,
            change_password_ticket: true,
            provider_reset_email: true,
            reset_code: false,
        }
    }

    async fn create_user(&self, user: &crate::NewUser) -> Result<crate::Created, IdpError> {
        self.create_moved_user(user).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        // The match is case-sensitive and database emails are stored lowercased.
        let email = email.trim().to_lowercase();
        let mut url =
            url::Url::parse(&self.transport.url("/api/v2/users-by-email")).map_err(|e| {
                IdpError::InvalidConfig {
                    reason: format!("users-by-email URL: {e}"),
                }
            })?;
        url.query_pairs_mut().append_pair("email", &email);
        let response = self
            .management(
                "auth0.users_by_email",
                Safety::Idempotent,
                Priority::Background,
                |client, token| client.get(url.clone()).bearer_auth(token),
            )
            .await?;
        if response.status != 200 {
            return Err(wire::management_error(&response));
        }
        let users: Vec<wire::User> = wire::parse(&response, "users-by-email")?;
        let mut matching: Vec<ProviderUser> = users
            .into_iter()
            .filter(|u| u.in_connection(&self.connection))
            .map(|u| u.into_provider_user(&self.connection))
            .collect();
        match matching.len() {
            0 => Ok(None),
            1 => Ok(matching.pop()),
            count => Err(IdpError::DuplicateUsers { count }),
        }
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        let path = format!(
            "/api/v2/users/{}",
            utf8_percent_encode(user_id, PATH_SEGMENT)
        );
        let url = self.transport.url(&path);
        let response = self
            .management(
                "auth0.set_password",
                Safety::NonIdempotent,
                // The user is waiting on the completion page.
                Priority::Interactive,
                |client, token| {
                    client.patch(&url).bearer_auth(token).json(&json!({
                        "password": password.expose_secret(),
                        "connection": self.connection,
                    }))
                },
            )
            .await?;
        if response.status != 200 {
            return Err(wire::management_error(&response));
        }
        let user: wire::User = wire::parse(&response, "updated user")?;
        Ok(user.into_provider_user(&self.connection))
    }

    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        let user = utf8_percent_encode(user_id, PATH_SEGMENT).to_string();
        for (operation, resource) in [
            ("auth0.delete_sessions", "sessions"),
            ("auth0.delete_refresh_tokens", "refresh-tokens"),
        ] {
            let url = self
                .transport
                .url(&format!("/api/v2/users/{user}/{resource}"));
            // Deleting everything twice leaves the same state: safe to retry.
            let response = self
                .management(
                    operation,
                    Safety::Idempotent,
                    Priority::Background,
                    |client, token| client.delete(&url).bearer_auth(token),
                )
                .await?;
            if !matches!(response.status, 200 | 202 | 204) {
                return Err(wire::management_error(&response));
            }
        }
        Ok(())
    }

    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        let mut body = json!({
            "user_id": request.user_id,
            "mark_email_as_verified": request.mark_email_as_verified,
        });
        // result_url and client_id are mutually exclusive (spec A5, D3): an explicit
        // application wins; New Universal Login ignores result_url, so it returns through
        // the product's application; Classic honours result_url.
        let application = request.client_id.as_ref().or(self
            .app_client_id
            .as_ref()
            .filter(|_| self.new_universal_login));
        if let Some(client_id) = application {
            body["client_id"] = json!(client_id);
        } else if let Some(result_url) = &request.result_url {
            body["result_url"] = json!(result_url);
        }
        if let Some(ttl) = request.ttl {
            body["ttl_sec"] = json!(ttl.as_secs());
        }
        let url = self.transport.url("/api/v2/tickets/password-change");
        // Creating a second ticket only supersedes the first, so retrying is safe.
        let response = self
            .management(
                "auth0.ticket",
                Safety::Idempotent,
                Priority::Background,
                |client, token| {
                    let request = client.post(&url).bearer_auth(token).json(&body);
                    match &self.custom_domain {
                        Some(domain) => request.header("auth0-custom-domain", domain),
                        None => request,
                    }
                },
            )
            .await?;
        if response.status != 201 {
            return Err(wire::management_error(&response));
        }
        let ticket: TicketResponse = wire::parse(&response, "ticket")?;
        Ok(PasswordChangeTicket {
            url: SecretString::from(ticket.ticket),
        })
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        let url = self.transport.url("/dbconnections/change_password");
        // The application must have the connection enabled (spec D4); M2M apps usually not.
        let client_id = self.app_client_id.as_ref().unwrap_or(&self.client_id);
        let body = json!({
            "client_id": client_id,
            "email": email.trim().to_lowercase(),
            "connection": self.connection,
        });
        let response = self
            .transport
            .execute(
                "auth0.change_password_email",
                Safety::NonIdempotent,
                no_throttle,
                |client| client.post(&url).json(&body),
            )
            .await?;
        // Success is a text/html sentence, not JSON; the same for unknown emails.
        if response.status == 200 {
            Ok(())
        } else {
            Err(wire::auth_api_error(&response))
        }
    }
}
