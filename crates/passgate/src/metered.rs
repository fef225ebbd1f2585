//! Metering seams: wrappers that count and time what crosses the engine's two outward
//! boundaries without the engine knowing about metrics.
//!
//! - [`MeteredBackend`]: the web layer's [`ResetBackend`] around the engine; counts the
//!   password-policy violations users hit, per rule (`passgate_policy_violations_total`).
//! - [`MeteredProviders`]: the engine's [`ProviderDirectory`]; every provider call is timed
//!   and its errors counted per endpoint (`passgate_provider_request_duration_seconds`,
//!   `passgate_provider_errors_total`).

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use metrics::{counter, histogram};
use passgate_engine::{
    CompleteError, CompleteInput, Completed, Engine, EngineError, InvalidLink, ProviderDirectory,
    RequestAccepted, RequestError, RequestInput, TokenView,
};
use passgate_idp::{
    Capabilities, Created, IdentityProvider, IdpError, Located, NewUser, PasswordChangeTicket,
    PasswordChanged, ProviderKind, ProviderUser, ResetAuthorization, TicketRequest,
};
use passgate_tenant::TenantConfig;
use passgate_web::ResetBackend;
use secrecy::SecretString;

/// The engine, with policy violations counted.
#[derive(Debug, Clone)]
pub struct MeteredBackend(pub Engine);

#[async_trait]
impl ResetBackend for MeteredBackend {
    async fn request_reset(&self, input: RequestInput) -> Result<RequestAccepted, RequestError> {
        self.0.request_reset(input).await
    }

    async fn view_token(&self, token: &str) -> Result<TokenView, InvalidLink> {
        self.0.view_token(token).await
    }

    async fn view_janrain_code(&self, client_id: &str, code: &str) -> Result<(), InvalidLink> {
        self.0.view_janrain_code(client_id, code).await
    }

    async fn check_code(
        &self,
        flow_id: &str,
        code: &str,
        client_ip: std::net::IpAddr,
        request_id: &str,
    ) -> Result<(), passgate_engine::error::CodeCheckError> {
        self.0
            .check_code(flow_id, code, client_ip, request_id)
            .await
    }

    async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError> {
        let result = self.0.complete_reset(input).await;
        match &result {
            Err(CompleteError::PolicyViolations(violations)) => {
                for violation in violations {
                    counter!("passgate_policy_violations_total", "rule" => violation.code())
                        .increment(1);
                }
            }
            Err(CompleteError::PasswordReused { .. }) => {
                counter!("passgate_policy_violations_total", "rule" => "history").increment(1);
            }
            _ => {}
        }
        result
    }
}

/// A provider directory whose clients are timed.
#[derive(Debug)]
pub struct MeteredProviders<P>(pub P);

#[async_trait]
impl<P: ProviderDirectory> ProviderDirectory for MeteredProviders<P> {
    async fn provider(
        &self,
        tenant: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        let inner = self.0.provider(tenant).await?;
        Ok(Arc::new(MeteredProvider {
            inner,
            tenant: tenant.id.as_str().to_owned(),
        }))
    }
}

/// One provider client, timed.
struct MeteredProvider {
    inner: Arc<dyn IdentityProvider>,
    tenant: String,
}

impl fmt::Debug for MeteredProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl MeteredProvider {
    /// Times `call` under `endpoint` and counts its error, if any, by kind.
    async fn timed<T>(
        &self,
        endpoint: &'static str,
        call: impl Future<Output = Result<T, IdpError>>,
    ) -> Result<T, IdpError> {
        let provider = match self.inner.kind() {
            ProviderKind::Auth0 => "auth0",
            ProviderKind::Janrain => "janrain",
        };
        let started = Instant::now();
        let result = call.await;
        histogram!("passgate_provider_request_duration_seconds", "provider" => provider, "endpoint" => endpoint)
            .record(started.elapsed().as_secs_f64());
        if let Err(err) = &result {
            let kind = if err.is_policy_rejection() {
                "rejected"
            } else if err.is_ambiguous() {
                "ambiguous"
            } else if err.is_retryable() {
                "unavailable"
            } else {
                "failed"
            };
            counter!("passgate_provider_errors_total", "provider" => provider, "endpoint" => endpoint, "kind" => kind)
                .increment(1);
        }
        self.record_pacing();
        result
    }

    /// Publishes the tenant's pacing counters (calls sent, 429 answers, waits for capacity):
    /// the client keeps running totals, so they are set, not added.
    fn record_pacing(&self) {
        let Some(stats) = self.inner.pace_stats() else {
            return;
        };
        crate::instruments::add_provider_waits(&self.tenant, stats.waits, stats.waited_ms);
        let tenant = self.tenant.clone();
        counter!("passgate_provider_calls_total", "tenant" => tenant.clone()).absolute(stats.calls);
        counter!("passgate_provider_rate_limited_total", "tenant" => tenant.clone())
            .absolute(stats.rate_limited);
        counter!("passgate_provider_pace_waits_total", "tenant" => tenant.clone())
            .absolute(stats.waits);
        counter!("passgate_provider_pace_wait_milliseconds_total", "tenant" => tenant)
            .absolute(stats.waited_ms);
    }
}

#[async_trait]
impl IdentityProvider for MeteredProvider {
    fn kind(&self) -> ProviderKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn pace_stats(&self) -> Option<passgate_idp::PaceStats> {
        self.inner.pace_stats()
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        self.timed("find_user_by_email", self.inner.find_user_by_email(email))
            .await
    }

    async fn locate(&self, email: &str) -> Result<Located, IdpError> {
        let located = self
            .timed("find_user_by_email", self.inner.locate(email))
            .await?;
        if let Some(placement) = located.placement {
            counter!("passgate_move_lookups_total", "tenant" => self.tenant.clone(), "placement" => placement.as_str())
                .increment(1);
        }
        Ok(located)
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.timed("set_password", self.inner.set_password(user_id, password))
            .await
    }

    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<PasswordChanged, IdpError> {
        let changed = self
            .timed("set_password", self.inner.change_password(user, password))
            .await?;
        if let Some(served_by) = changed.served_by {
            counter!("passgate_move_resets_total", "tenant" => self.tenant.clone(), "served_by" => served_by.as_str())
                .increment(1);
        }
        Ok(changed)
    }

    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        self.timed("revoke_sessions", self.inner.revoke_sessions(user_id))
            .await
    }

    async fn create_user(&self, user: &NewUser) -> Result<Created, IdpError> {
        self.timed("create_user", self.inner.create_user(user))
            .await
    }

    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        self.timed(
            "create_password_change_ticket",
            self.inner.create_password_change_ticket(request),
        )
        .await
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        self.timed("send_reset_email", self.inner.send_reset_email(email))
            .await
    }

    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        self.timed("redeem_reset_code", self.inner.redeem_reset_code(code))
            .await
    }

    async fn set_password_with_authorization(
        &self,
        authorization: &ResetAuthorization,
        password: &SecretString,
    ) -> Result<(), IdpError> {
        self.timed(
            "set_password_with_authorization",
            self.inner
                .set_password_with_authorization(authorization, password),
        )
        .await
    }
}
