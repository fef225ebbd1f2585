//! `POST /api/v2/users` for the tenant's database connection (spec D9): the target side of
//! a Janrain → Auth0 move (issue 19). Scope `create:users`.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{Auth0Client, wire};
use crate::http::Safety;
use crate::{IdpError, Priority, ProviderUser};

/// A database user to create. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct NewAuth0User {
    /// Email (sent lowercased, as Auth0 stores database emails).
    pub email: String,
    /// The first password; the connection's policy applies.
    pub password: SecretString,
    /// Whether the email counts as verified (carried over from the old provider).
    pub email_verified: bool,
    /// Display name, if any.
    pub name: Option<String>,
    /// `user_metadata` (for example where the account came from), if any.
    pub user_metadata: Option<serde_json::Value>,
}

/// The user Auth0 created.
pub type CreatedUser = ProviderUser;

/// What `create_user` ended with. A 409 is an outcome, not a failure: the caller looks the
/// user up by email and carries on, so creating by email is idempotent for it.
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    /// 201: the new user.
    Created(CreatedUser),
    /// 409 "The user already exists.": the email is taken in the connection.
    AlreadyExists,
}

impl Auth0Client {
    /// Creates a user in the tenant's connection. A weak password maps as on `PATCH`
    /// ([`IdpError::PasswordStrength`] and the other policy errors). Not idempotent: a
    /// timeout or 5xx after sending is [`IdpError::Ambiguous`] (look the email up, then
    /// decide); 429s are retried as the transport's rules allow.
    pub async fn create_user(&self, user: &NewAuth0User) -> Result<CreateOutcome, IdpError> {
        let mut body = json!({
            "connection": self.connection,
            "email": user.email.trim().to_lowercase(),
            "password": user.password.expose_secret(),
            "email_verified": user.email_verified,
        });
        if let Some(name) = &user.name {
            body["name"] = json!(name);
        }
        if let Some(metadata) = &user.user_metadata {
            body["user_metadata"] = metadata.clone();
        }
        let url = self.transport.url("/api/v2/users");
        let response = self
            .management(
                "auth0.create_user",
                Safety::NonIdempotent,
                // A batch move: nobody waits on the page.
                Priority::Background,
                |client, token| client.post(&url).bearer_auth(token).json(&body),
            )
            .await?;
        match response.status {
            201 => {
                let created: wire::User = wire::parse(&response, "created user")?;
                Ok(CreateOutcome::Created(
                    created.into_provider_user(&self.connection),
                ))
            }
            409 => Ok(CreateOutcome::AlreadyExists),
            _ => Err(wire::management_error(&response)),
        }
    }
}

impl Auth0Client {
    /// [`crate::IdentityProvider::create_user`]: the migration's account, marked as moved.
    pub(super) async fn create_moved_user(
        &self,
        user: &crate::NewUser,
    ) -> Result<crate::Created, IdpError> {
        let new = NewAuth0User {
            email: user.email.clone(),
            password: user.password.clone(),
            email_verified: user.email_verified,
            name: user.name.clone(),
            user_metadata: None,
        };
        Ok(match self.create_user(&new).await? {
            CreateOutcome::Created(created) => crate::Created::New(created),
            CreateOutcome::AlreadyExists => crate::Created::AlreadyExists,
        })
    }
}
