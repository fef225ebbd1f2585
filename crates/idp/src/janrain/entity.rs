//! Janrain's server-side entity API for a move to Auth0 (issue 19, spec B3b, J-D5, J-D6):
//! `/entity` reads an account by email, `/entity.update` sets its password. Both need the
//! credentials of an API client with the `owner` or `direct_access` feature (HTTP Basic),
//! which is usually not the login client the reset uses: see
//! [`JanrainClient::with_server_credentials`].

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Call, JanrainClient, janrain_throttle, read_reply};
use crate::IdpError;
use crate::http::{RawResponse, Safety};

/// What a move to Auth0 maps from a Janrain account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JanrainEntity {
    /// The entity's `uuid`.
    pub uuid: String,
    /// `email`, as stored.
    pub email: String,
    /// Whether `emailVerified` holds a time (Capture stores when, not whether).
    pub email_verified: bool,
    /// `displayName`, where present.
    pub display_name: Option<String>,
    /// `givenName`, where present.
    pub given_name: Option<String>,
    /// `familyName`, where present.
    pub family_name: Option<String>,
}

/// The attributes asked for: only what [`JanrainEntity`] maps (no password hash comes back).
const ATTRIBUTES: &str =
    r#"["uuid","email","emailVerified","displayName","givenName","familyName"]"#;

#[derive(Deserialize)]
struct EntityReply {
    result: EntityResult,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityResult {
    uuid: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
}

impl JanrainClient {
    /// Uses `client_id`/`client_secret` (an `owner` or `direct_access` API client) for the
    /// entity calls instead of the login client of the reset.
    #[must_use]
    pub fn with_server_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        self.server = Some((client_id.into(), client_secret));
        self
    }

    /// `POST /entity` by email: `Ok(None)` when Capture has no such record (310). A wrong
    /// secret is [`IdpError::Unauthorized`]; a client without server access
    /// [`IdpError::Forbidden`].
    pub async fn find_entity_by_email(
        &self,
        email: &str,
    ) -> Result<Option<JanrainEntity>, IdpError> {
        let key_value = serde_json::Value::String(email.trim().to_lowercase()).to_string();
        let form = [
            ("type_name", "user"),
            ("key_attribute", "email"),
            ("key_value", key_value.as_str()),
            ("attributes", ATTRIBUTES),
        ];
        // A read: safe to retry.
        let response = self
            .post_entity("janrain.entity", "/entity", Safety::Idempotent, &form)
            .await?;
        let reply = match read_reply(Call::Entity, &self.config, &response) {
            Ok(_) => response,
            Err(IdpError::NotFound) => return Ok(None),
            Err(error) => return Err(error),
        };
        let parsed: EntityReply =
            serde_json::from_str(&reply.body).map_err(|e| IdpError::UnexpectedResponse {
                status: reply.status,
                reason: format!("entity reply ({:?} error)", e.classify()),
            })?;
        let result = parsed.result;
        Ok(Some(JanrainEntity {
            uuid: result.uuid,
            email: result.email.unwrap_or_default(),
            email_verified: result
                .email_verified
                .is_some_and(|v| !v.is_null() && v != serde_json::Value::Bool(false)),
            display_name: result.display_name,
            given_name: result.given_name,
            family_name: result.family_name,
        }))
    }

    /// `POST /entity.update` with `attributes={"password":…}` for the entity `uuid`. Reuse
    /// under a password history is [`IdpError::PasswordHistory`] (352); an unknown uuid
    /// [`IdpError::NotFound`]. Not idempotent (a repeat meets the history): a timeout after
    /// sending is [`IdpError::Ambiguous`].
    pub async fn set_password_server_side(
        &self,
        uuid: &str,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        let attributes = serde_json::json!({ "password": password.expose_secret() }).to_string();
        let form = [
            ("type_name", "user"),
            ("uuid", uuid),
            ("attributes", attributes.as_str()),
        ];
        let response = self
            .post_entity(
                "janrain.entity_update",
                "/entity.update",
                Safety::NonIdempotent,
                &form,
            )
            .await?;
        read_reply(Call::EntityUpdate, &self.config, &response).map(|_| ())
    }

    async fn post_entity(
        &self,
        operation: &'static str,
        path: &str,
        safety: Safety,
        form: &[(&str, &str)],
    ) -> Result<RawResponse, IdpError> {
        let (client_id, secret) = match &self.server {
            Some((id, secret)) => (id.as_str(), secret),
            None => (self.config.client_id.as_str(), &self.config.client_secret),
        };
        let url = self.transport.url(path);
        self.transport
            .execute(operation, safety, janrain_throttle, |client| {
                client
                    .post(&url)
                    .form(form)
                    .basic_auth(client_id, Some(secret.expose_secret()))
            })
            .await
    }
}
