//! [`GuardedProviders`]: the provider directory the reset steps use. It checks the tenant's
//! circuit before it hands a client out, and the client it hands out ([`Guarded`]) feeds the
//! circuit on **every** call — lookups, `set_password`, tickets, mails, Janrain's code
//! redemption and profile update, session revocation — with one outage rule,
//! [`is_outage`]. No step feeds the breaker itself, so no step can forget to.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use passgate_idp::{
    Capabilities, Created, IdentityProvider, IdpError, Located, NewUser, PaceStats,
    PasswordChangeTicket, PasswordChanged, ProviderKind, ProviderUser, ResetAuthorization,
    TicketRequest,
};
use passgate_tenant::{TenantConfig, TenantId};
use secrecy::SecretString;

use crate::{breaker::Breakers, clock::Clock, error::EngineError, providers::ProviderDirectory};

/// The one outage rule: failures that say the provider is unwell (timeouts, 5xx, refused
/// connections, 429, and ambiguous answers) count towards opening the circuit; every other
/// answer, a refusal included, shows the provider is up and closes it.
pub(crate) fn is_outage(err: &IdpError) -> bool {
    err.is_retryable() || err.is_ambiguous()
}

/// Tenant → a provider client behind its circuit breaker.
#[derive(Debug, Clone)]
pub(crate) struct GuardedProviders {
    directory: Arc<dyn ProviderDirectory>,
    /// Shared with every handed-out client, which reports to it.
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
}

impl GuardedProviders {
    pub(crate) fn new(
        directory: Arc<dyn ProviderDirectory>,
        breakers: Breakers,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            breakers: Arc::new(breakers),
            clock,
        }
    }

    /// `tenant`'s client, if its circuit lets a call through now
    /// ([`EngineError::CircuitOpen`] otherwise).
    pub(crate) async fn provider(
        &self,
        tenant: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        if !self.breakers.allow(&tenant.id, self.clock.now()) {
            return Err(EngineError::CircuitOpen(tenant.id.as_str().to_owned()));
        }
        let client = self.directory.provider(tenant).await?;
        Ok(Arc::new(Guarded {
            client,
            tenant: tenant.id.clone(),
            breakers: Arc::clone(&self.breakers),
            clock: Arc::clone(&self.clock),
        }))
    }
}

/// A tenant's client that reports every call's outcome to the tenant's circuit.
struct Guarded {
    client: Arc<dyn IdentityProvider>,
    tenant: TenantId,
    breakers: Arc<Breakers>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Guarded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("tenant", &self.tenant)
            .field("client", &self.client)
            .finish()
    }
}

impl Guarded {
    fn feed<T>(&self, result: Result<T, IdpError>) -> Result<T, IdpError> {
        let outage = result.as_ref().err().is_some_and(is_outage);
        self.breakers.record(&self.tenant, outage, self.clock.now());
        result
    }
}

#[async_trait]
impl IdentityProvider for Guarded {
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
        self.feed(self.client.find_user_by_email(email).await)
    }

    async fn locate(&self, email: &str) -> Result<Located, IdpError> {
        self.feed(self.client.locate(email).await)
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.feed(self.client.set_password(user_id, password).await)
    }

    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<PasswordChanged, IdpError> {
        self.feed(self.client.change_password(user, password).await)
    }

    async fn create_user(&self, user: &NewUser) -> Result<Created, IdpError> {
        self.feed(self.client.create_user(user).await)
    }

    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        self.feed(self.client.revoke_sessions(user_id).await)
    }

    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        self.feed(self.client.create_password_change_ticket(request).await)
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        self.feed(self.client.send_reset_email(email).await)
    }

    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        self.feed(self.client.redeem_reset_code(code).await)
    }

    async fn set_password_with_authorization(
        &self,
        authorization: &ResetAuthorization,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        self.feed(
            self.client
                .set_password_with_authorization(authorization, password)
                .await,
        )
    }
}
