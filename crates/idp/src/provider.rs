//! [`IdentityProvider`]: the operations the reset flows need from a provider, whichever
//! vendor implements them.

use std::fmt::Debug;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::migration::{Created, Located, NewUser, PasswordChanged};
use crate::{
    Capabilities, IdpError, PasswordChangeTicket, ProviderKind, ProviderUser, ResetAuthorization,
    TicketRequest,
};

/// One tenant's identity provider, as the reset engine sees it.
///
/// Each flow uses a subset: the gateway-managed flow calls [`find_user_by_email`] then
/// [`set_password`]; the ticket flow [`create_password_change_ticket`]; the provider-mail flow
/// [`send_reset_email`]; Janrain's emailed-code flow [`send_reset_email`],
/// [`redeem_reset_code`] and [`set_password_with_authorization`]. [`capabilities`] says which
/// are available; the others return [`IdpError::Unsupported`].
///
/// [`find_user_by_email`]: IdentityProvider::find_user_by_email
/// [`set_password`]: IdentityProvider::set_password
/// [`create_password_change_ticket`]: IdentityProvider::create_password_change_ticket
/// [`send_reset_email`]: IdentityProvider::send_reset_email
/// [`redeem_reset_code`]: IdentityProvider::redeem_reset_code
/// [`set_password_with_authorization`]: IdentityProvider::set_password_with_authorization
/// [`capabilities`]: IdentityProvider::capabilities
#[async_trait]
pub trait IdentityProvider: Debug + Send + Sync {
    /// The vendor family.
    fn kind(&self) -> ProviderKind;

    /// Calls, 429s and waits of this provider tenant's limiter (`None`: not paced).
    fn pace_stats(&self) -> Option<crate::PaceStats> {
        None
    }

    /// Which operations work for this client.
    fn capabilities(&self) -> Capabilities;

    /// Finds the user with this email in the tenant's connection; `Ok(None)` when absent.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        let _ = email;
        Err(IdpError::Unsupported {
            operation: "find_user_by_email",
        })
    }

    /// [`IdentityProvider::find_user_by_email`] with, for a tenant on the move, where the
    /// address was found (audited for the move's report).
    async fn locate(&self, email: &str) -> Result<Located, IdpError> {
        Ok(Located {
            user: self.find_user_by_email(email).await?,
            placement: None,
        })
    }

    /// Sets the user's password in the tenant's connection and returns the updated user.
    /// A timeout after sending yields [`IdpError::Ambiguous`]; it is never retried blindly.
    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        let _ = (user_id, password);
        Err(IdpError::Unsupported {
            operation: "set_password",
        })
    }

    /// Sets the password of `user` as found by [`IdentityProvider::find_user_by_email`]. The
    /// same as [`IdentityProvider::set_password`] by its id, except where the whole account
    /// matters (a tenant on the move creates it in the target: [`crate::MovingProvider`]).
    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<PasswordChanged, IdpError> {
        Ok(PasswordChanged {
            user: self.set_password(&user.user_id, password).await?,
            served_by: None,
        })
    }

    /// Creates a user in the tenant's connection with this password (the target of a move);
    /// [`Created::AlreadyExists`] when the address is taken, which is not a failure.
    async fn create_user(&self, user: &NewUser) -> Result<Created, IdpError> {
        let _ = user;
        Err(IdpError::Unsupported {
            operation: "create_user",
        })
    }

    /// Ends the user's sessions and revokes their refresh tokens, so whoever held the old
    /// password is signed out everywhere (security item 47). Auth0: Enterprise plan, scopes
    /// `delete:sessions` and `delete:refresh_tokens`.
    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        let _ = user_id;
        Err(IdpError::Unsupported {
            operation: "revoke_sessions",
        })
    }

    /// Creates a single-use password-change URL hosted by the provider.
    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        let _ = request;
        Err(IdpError::Unsupported {
            operation: "create_password_change_ticket",
        })
    }

    /// Asks the provider to email the user its own reset link (Auth0 change_password,
    /// Janrain forgot_password_native).
    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        let _ = email;
        Err(IdpError::Unsupported {
            operation: "send_reset_email",
        })
    }

    /// Exchanges the code from a provider reset email for a user access token (Janrain).
    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        let _ = code;
        Err(IdpError::Unsupported {
            operation: "redeem_reset_code",
        })
    }

    /// Sets a new password using the authorization from [`IdentityProvider::redeem_reset_code`].
    async fn set_password_with_authorization(
        &self,
        authorization: &ResetAuthorization,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        let _ = (authorization, password);
        Err(IdpError::Unsupported {
            operation: "set_password_with_authorization",
        })
    }
}
