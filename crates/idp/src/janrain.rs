//! The Janrain (Akamai Identity Cloud, Capture) client for the emailed-code reset, per
//! `shared/specs/idp-contracts.md` part B: `/oauth/forgot_password_native` makes Capture mail
//! a code, `/oauth/token` exchanges it (same client, same `redirect_uri`) for a user access
//! token, and `/oauth/update_profile_native` with the `changePasswordFormNoAuth` form sets
//! the new password. Errors are HTTP 200 with `"stat":"error"` and a numeric `code`, except
//! on `/oauth/token` (HTTP 400/401 with the same body).

mod entity;

pub use entity::JanrainEntity;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::{HostPolicy, JANRAIN_PLATFORM_SUFFIXES, check_provider_host};
use crate::error::truncate_message;
use crate::http::{HttpConfig, RawResponse, Safety, Transport};
use crate::{
    Capabilities, Clock, IdentityProvider, IdpError, ProviderKind, ProviderUser,
    ResetAuthorization, SystemClock,
};

/// One tenant's Capture application and flow. Field names come from the flow definition,
/// so they are configurable; the defaults are the standard flow's.
#[derive(Debug, Clone)]
pub struct JanrainConfig {
    /// Capture domain (`acme.us.janraincapture.com`) or an allowed custom domain.
    pub capture_domain: String,
    /// The login (API) client: it requests the code and must be the one to redeem it.
    pub client_id: String,
    /// Its secret, for `/oauth/token` (HTTP Basic).
    pub client_secret: SecretString,
    /// Flow name, e.g. `standard`.
    pub flow: String,
    /// Flow version, e.g. `20190618143040022299` or `HEAD`.
    pub flow_version: String,
    /// Locale of the provider's email and messages, e.g. `en-US`.
    pub locale: String,
    /// Sent on forgot-password and again, identically, on the code exchange.
    pub redirect_uri: String,
    /// Forgot-password form name (`forgotPasswordForm`).
    pub forgot_password_form: String,
    /// Email field of that form (`signInEmailAddress`).
    pub email_field: String,
    /// Reset-by-link form (`changePasswordFormNoAuth`).
    pub change_password_form: String,
    /// New-password field (`newPassword`).
    pub new_password_field: String,
    /// Confirmation field (`newPasswordConfirm`).
    pub confirm_password_field: String,
    /// Custom domains and the loopback test switch.
    pub hosts: HostPolicy,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

impl JanrainConfig {
    /// A configuration with the standard flow's form and field names.
    pub fn new(
        capture_domain: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            capture_domain: capture_domain.into(),
            client_id: client_id.into(),
            client_secret,
            flow: "standard".into(),
            flow_version: "HEAD".into(),
            locale: "en-US".into(),
            redirect_uri: redirect_uri.into(),
            forgot_password_form: "forgotPasswordForm".into(),
            email_field: "signInEmailAddress".into(),
            change_password_form: "changePasswordFormNoAuth".into(),
            new_password_field: "newPassword".into(),
            confirm_password_field: "newPasswordConfirm".into(),
            hosts: HostPolicy::default(),
            http: HttpConfig::default(),
        }
    }
}

/// Janrain as an [`IdentityProvider`].
#[derive(Debug)]
pub struct JanrainClient {
    config: JanrainConfig,
    transport: Transport,
    /// An `owner`/`direct_access` client for the entity API, when not the login client.
    server: Option<(String, SecretString)>,
}

/// The common reply envelope.
#[derive(Debug, Default, Deserialize)]
struct Reply {
    #[serde(default)]
    stat: Option<String>,
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    argument_name: Option<String>,
    #[serde(default)]
    sub_error: Option<String>,
    #[serde(default)]
    invalid_fields: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Which call a reply answers, for error mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Forgot,
    Token,
    Update,
    /// `/entity` (read).
    Entity,
    /// `/entity.update`.
    EntityUpdate,
}

/// 510 (too many simultaneous calls) and 480 (maintenance) ask us to come back later.
fn janrain_throttle(response: &RawResponse) -> Option<u32> {
    let reply: Reply = serde_json::from_str(&response.body).ok()?;
    match (reply.stat.as_deref(), reply.code) {
        (Some("error"), Some(code @ (510 | 480))) => Some(code),
        _ => None,
    }
}

impl JanrainClient {
    /// Checks the domain against the allowlist (no connection is made) and builds the client.
    pub fn new(config: JanrainConfig) -> Result<Self, IdpError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`JanrainClient::new`], with an explicit clock.
    pub fn with_clock(config: JanrainConfig, clock: Arc<dyn Clock>) -> Result<Self, IdpError> {
        let base = check_provider_host(
            &config.capture_domain,
            JANRAIN_PLATFORM_SUFFIXES,
            &config.hosts,
        )?;
        if config.client_id.trim().is_empty() || config.redirect_uri.trim().is_empty() {
            return Err(IdpError::InvalidConfig {
                reason: "Janrain client_id and redirect_uri must not be empty".into(),
            });
        }
        let transport = Transport::new(base, config.http.clone(), clock)?;
        Ok(Self {
            config,
            transport,
            server: None,
        })
    }

    async fn post_form(
        &self,
        operation: &'static str,
        path: &str,
        basic_auth: bool,
        form: &[(&str, &str)],
    ) -> Result<RawResponse, IdpError> {
        let url = self.transport.url(path);
        self.transport
            .execute(
                operation,
                Safety::NonIdempotent,
                janrain_throttle,
                |client| {
                    let request = client.post(&url).form(form);
                    if basic_auth {
                        request.basic_auth(
                            &self.config.client_id,
                            Some(self.config.client_secret.expose_secret()),
                        )
                    } else {
                        request
                    }
                },
            )
            .await
    }
}

/// Reads a reply: `Ok` when `stat` is `ok`, the mapped error otherwise.
fn read_reply(
    call: Call,
    config: &JanrainConfig,
    response: &RawResponse,
) -> Result<Reply, IdpError> {
    if (300..400).contains(&response.status) {
        return Err(IdpError::Redirected {
            status: response.status,
        });
    }
    let reply: Reply =
        serde_json::from_str(&response.body).map_err(|e| IdpError::UnexpectedResponse {
            status: response.status,
            reason: format!("not a Janrain reply ({:?} error)", e.classify()),
        })?;
    match reply.stat.as_deref() {
        Some("ok") if response.status == 200 => Ok(reply),
        Some("error") => Err(map_error(call, config, reply)),
        _ => Err(IdpError::UnexpectedResponse {
            status: response.status,
            reason: "reply without a valid `stat`".into(),
        }),
    }
}

fn map_error(call: Call, config: &JanrainConfig, reply: Reply) -> IdpError {
    let code = reply.code.unwrap_or(0);
    let error = reply.error.clone().unwrap_or_default();
    let description = truncate_message(
        reply
            .message
            .as_deref()
            .or(reply.error_description.as_deref())
            .unwrap_or(""),
    );
    if error == "no_such_account" {
        return IdpError::NoSuchAccount;
    }
    match (call, code) {
        // Forgot-password: a form-level (or email-field) complaint is "no such account"
        // [spec B1: exact shape unconfirmed; the safest reading is any 390 naming the form
        // or the email field].
        (Call::Forgot, 390)
            if reply
                .invalid_fields
                .contains_key(&config.forgot_password_form)
                || reply.invalid_fields.contains_key(&config.email_field) =>
        {
            IdpError::NoSuchAccount
        }
        (Call::Update, 390) => IdpError::PasswordRejected {
            fields: field_messages(&reply),
        },
        (Call::Update, 214 | 352) | (Call::EntityUpdate, 352) => IdpError::PasswordHistory,
        (Call::Entity | Call::EntityUpdate, 310) => IdpError::NotFound,
        (Call::Update, 414) => IdpError::ExpiredToken,
        (Call::Token, 415) => IdpError::ExpiredCode,
        // An unknown or reused code: `invalid_argument` naming `code`, or the documented
        // OAuth-style `invalid_request` with a `sub_error` (spec J-D3); both are handled.
        (Call::Token, 200)
            if reply.argument_name.as_deref() == Some("code")
                || (error == "invalid_request"
                    && reply.sub_error.is_some()
                    && reply.argument_name.is_none()) =>
        {
            IdpError::InvalidCode
        }
        (_, 402) => IdpError::Unauthorized {
            message: description,
        },
        (_, 403) => IdpError::Forbidden {
            message: description,
        },
        (_, 510 | 480) => IdpError::Overloaded { code },
        (_, 100 | 200 | 201 | 205 | 420) => IdpError::BadRequest {
            code: format!("{code} {error}"),
            message: description,
        },
        _ => IdpError::Janrain {
            code,
            error,
            description,
        },
    }
}

/// `field: message` pairs from `invalid_fields` (values are arrays of strings).
fn field_messages(reply: &Reply) -> Vec<String> {
    reply
        .invalid_fields
        .iter()
        .flat_map(|(field, messages)| {
            let texts: Vec<String> = match messages {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|m| m.as_str().map(truncate_message))
                    .collect(),
                serde_json::Value::String(text) => vec![truncate_message(text)],
                _ => Vec::new(),
            };
            texts.into_iter().map(move |t| format!("{field}: {t}"))
        })
        .collect()
}

impl JanrainClient {
    /// The login client of a reset has no server-side access: without an owner client the
    /// entity calls behind the trait are not offered (see [`Capabilities::find_user`]).
    fn require_server_credentials(&self, operation: &'static str) -> Result<(), IdpError> {
        match self.server {
            Some(_) => Ok(()),
            None => Err(IdpError::Unsupported { operation }),
        }
    }
}

#[async_trait]
impl IdentityProvider for JanrainClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Janrain
    }

    fn pace_stats(&self) -> Option<crate::PaceStats> {
        Some(self.transport.pace_stats())
    }

    fn capabilities(&self) -> Capabilities {
        // The server-side entity calls need an owner/direct_access client: the source of
        // a move ([`crate::MovingProvider`]).
        let server = self.server.is_some();
        Capabilities {
            find_user: server,
            set_password: server,
            change_password_ticket: false,
            provider_reset_email: true,
            reset_code: true,
        }
    }

    /// The entity read by email (the source side of a move); the uuid is the user id.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        self.require_server_credentials("find_user_by_email")?;
        let entity = self.find_entity_by_email(email).await?;
        Ok(entity.map(|entity| ProviderUser {
            user_id: entity.uuid,
            email: entity.email,
            connection: "janrain".into(),
            name: entity.display_name,
            blocked: false,
            email_verified: entity.email_verified,
            last_password_reset: None,
        }))
    }

    /// `entity.update` with the new password. Capture answers only `stat`, so the user
    /// returned carries the uuid alone.
    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.require_server_credentials("set_password")?;
        self.set_password_server_side(user_id, password).await?;
        Ok(ProviderUser {
            user_id: user_id.to_owned(),
            email: String::new(),
            connection: "janrain".into(),
            name: None,
            blocked: false,
            email_verified: false,
            last_password_reset: None,
        })
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        let c = &self.config;
        let email = email.trim();
        let response = self
            .post_form(
                "janrain.forgot_password",
                "/oauth/forgot_password_native",
                false,
                &[
                    ("client_id", &c.client_id),
                    ("locale", &c.locale),
                    ("redirect_uri", &c.redirect_uri),
                    ("response_type", "code"),
                    ("form", &c.forgot_password_form),
                    ("flow", &c.flow),
                    ("flow_version", &c.flow_version),
                    (&c.email_field, email),
                ],
            )
            .await?;
        read_reply(Call::Forgot, c, &response).map(|_| ())
    }

    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        let c = &self.config;
        let response = self
            .post_form(
                "janrain.token",
                "/oauth/token",
                true,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.expose_secret()),
                    ("redirect_uri", &c.redirect_uri),
                ],
            )
            .await?;
        let reply = read_reply(Call::Token, c, &response)?;
        let token = reply
            .access_token
            .ok_or_else(|| IdpError::UnexpectedResponse {
                status: response.status,
                reason: "token reply without access_token".into(),
            })?;
        Ok(ResetAuthorization {
            access_token: SecretString::from(token),
            expires_in: Duration::from_secs(reply.expires_in.unwrap_or(3600)),
        })
    }

    async fn set_password_with_authorization(
        &self,
        authorization: &ResetAuthorization,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        let c = &self.config;
        let response = self
            .post_form(
                "janrain.update_password",
                "/oauth/update_profile_native",
                false,
                &[
                    ("client_id", &c.client_id),
                    ("access_token", authorization.access_token.expose_secret()),
                    ("locale", &c.locale),
                    ("flow", &c.flow),
                    ("flow_version", &c.flow_version),
                    ("form", &c.change_password_form),
                    (&c.new_password_field, password.expose_secret()),
                    (&c.confirm_password_field, password.expose_secret()),
                ],
            )
            .await?;
        read_reply(Call::Update, c, &response).map(|_| ())
    }
}
