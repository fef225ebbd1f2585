//! Auth0 wire formats: user objects and the two error body shapes (Management API
//! `{statusCode,error,message,errorCode}` and Authentication API `{error,error_description}`),
//! mapped to [`IdpError`].

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::truncate_message;
use crate::http::RawResponse;
use crate::{IdpError, ProviderUser};

/// A Management API user object; only the fields Passgate reads.
#[derive(Debug, Deserialize)]
pub(crate) struct User {
    user_id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    blocked: Option<bool>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    last_password_reset: Option<String>,
    #[serde(default)]
    identities: Vec<Identity>,
}

/// One identity of a user; `connection` is the connection *name*.
#[derive(Debug, Deserialize)]
struct Identity {
    #[serde(default)]
    connection: Option<String>,
}

impl User {
    /// Whether one of the user's identities lives in `connection`.
    pub fn in_connection(&self, connection: &str) -> bool {
        self.identities
            .iter()
            .any(|i| i.connection.as_deref() == Some(connection))
    }

    /// The engine's view of the user, in the tenant's `connection`.
    pub fn into_provider_user(self, connection: &str) -> ProviderUser {
        ProviderUser {
            user_id: self.user_id,
            email: self.email.unwrap_or_default(),
            connection: connection.to_owned(),
            name: self.name,
            blocked: self.blocked.unwrap_or(false),
            email_verified: self.email_verified.unwrap_or(false),
            last_password_reset: self
                .last_password_reset
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ManagementError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "errorCode")]
    error_code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Maps a non-success Management API answer.
pub(crate) fn management_error(response: &RawResponse) -> IdpError {
    let body: ManagementError = serde_json::from_str(&response.body).unwrap_or_default();
    let message = body
        .message
        .clone()
        .or_else(|| body.error.clone())
        .unwrap_or_default();
    if response.status == 400 {
        // Policy rejections carry no errorCode: match the name before the colon.
        let name = message.split(':').next().unwrap_or("").trim();
        match name {
            "PasswordStrengthError" => return IdpError::PasswordStrength,
            "PasswordHistoryError" => return IdpError::PasswordHistory,
            "PasswordDictionaryError" => return IdpError::PasswordDictionary,
            "PasswordNoUserInfoError" => return IdpError::PasswordNoUserInfo,
            _ => {}
        }
    }
    by_status(response, body.error_code, message)
}

/// Maps a non-success Authentication API answer (`/oauth/token`, `/dbconnections/*`).
pub(crate) fn auth_api_error(response: &RawResponse) -> IdpError {
    let body: AuthError = serde_json::from_str(&response.body).unwrap_or_default();
    let message = body
        .error_description
        .clone()
        .or_else(|| body.error.clone())
        .unwrap_or_default();
    by_status(response, body.error, message)
}

fn by_status(response: &RawResponse, code: Option<String>, message: String) -> IdpError {
    let message = truncate_message(&message);
    match response.status {
        300..=399 => IdpError::Redirected {
            status: response.status,
        },
        400 | 422 => IdpError::BadRequest {
            code: code.unwrap_or_else(|| "-".into()),
            message,
        },
        401 => IdpError::Unauthorized { message },
        403 => IdpError::Forbidden { message },
        404 => IdpError::NotFound,
        500..=599 => IdpError::Server {
            status: response.status,
        },
        status => IdpError::UnexpectedResponse {
            status,
            reason: message,
        },
    }
}

/// Parses a JSON success body, naming the operation on failure.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    response: &RawResponse,
    what: &str,
) -> Result<T, IdpError> {
    serde_json::from_str(&response.body).map_err(|e| IdpError::UnexpectedResponse {
        status: response.status,
        reason: json_error(what, &e),
    })
}

/// Describes a JSON parse failure by position only: serde's message can quote body values,
/// and bodies can hold tokens.
pub(crate) fn json_error(what: &str, e: &serde_json::Error) -> String {
    format!(
        "{what}: {:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}
