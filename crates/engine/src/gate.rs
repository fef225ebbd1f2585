//! [`Gated`]: an identity-provider client with a [`CallGate`] around every call — the
//! tenant's circuit ([`crate::guarded`]) or a moving tenant's Janrain circuit
//! ([`crate::source_guard`]). One delegation, so no call can be left out of a gate.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use passgate_idp::{
    Capabilities, Created, IdentityProvider, IdpError, Located, NewUser, PaceStats,
    PasswordChangeTicket, PasswordChanged, ProviderKind, ProviderUser, ResetAuthorization,
    TicketRequest,
};
use secrecy::SecretString;

/// What runs around each provider call: `before` may refuse it without calling; `after`
/// sees its outcome (and may reword the error).
pub(crate) trait CallGate: Send + Sync + fmt::Debug + 'static {
    fn before(&self) -> Result<(), IdpError>;
    fn after<T>(&self, result: Result<T, IdpError>) -> Result<T, IdpError>;
}

/// `client` behind `gate`.
pub(crate) struct Gated<G> {
    client: Arc<dyn IdentityProvider>,
    gate: G,
}

impl<G: CallGate> Gated<G> {
    pub(crate) fn new(client: Arc<dyn IdentityProvider>, gate: G) -> Self {
        Self { client, gate }
    }
}

impl<G: CallGate> fmt::Debug for Gated<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gated")
            .field("gate", &self.gate)
            .field("client", &self.client)
            .finish()
    }
}

#[async_trait]
impl<G: CallGate> IdentityProvider for Gated<G> {
    fn kind(&self) -> ProviderKind {
        self.client.kind()
    }

    fn pace_stats(&self) -> Option<PaceStats> {
        self.client.pace_stats()
    }

    fn capabilities(&self) -> Capabilities {
        self.client.capabilities()
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.find_user_by_email(email).await)
    }

    async fn locate(&self, email: &str) -> Result<Located, IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.locate(email).await)
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.gate.before()?;
        self.gate
            .after(self.client.set_password(user_id, password).await)
    }

    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<PasswordChanged, IdpError> {
        self.gate.before()?;
        self.gate
            .after(self.client.change_password(user, password).await)
    }

    async fn create_user(&self, user: &NewUser) -> Result<Created, IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.create_user(user).await)
    }

    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.revoke_sessions(user_id).await)
    }

    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        self.gate.before()?;
        self.gate
            .after(self.client.create_password_change_ticket(request).await)
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.send_reset_email(email).await)
    }

    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        self.gate.before()?;
        self.gate.after(self.client.redeem_reset_code(code).await)
    }

    async fn set_password_with_authorization(
        &self,
        authorization: &ResetAuthorization,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        self.gate.before()?;
        self.gate.after(
            self.client
                .set_password_with_authorization(authorization, password)
                .await,
        )
    }
}
