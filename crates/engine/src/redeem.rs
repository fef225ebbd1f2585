//! The completion step's entry points: [`Engine::view_token`] (read only: mail scanners open
//! links) and [`Engine::complete_reset`], which drives the machine of [`crate::flow`] for
//! Passgate credentials and hands Janrain codes to their strategy.

use passgate_store::TokenRepo as _;
use passgate_tenant::ClientId;
use serde_json::json;

use crate::{
    audit::{AuditRecord, action},
    engine::Engine,
    error::{CodeCheckError, CompleteError, InvalidLink},
    flow::{Attempt, CompleteInput, Completed, Credential, Presented, Step, TokenView, Trace},
    rate_limit,
    secret_token::{FlowId, LinkToken, ResetCode},
    strategy::{self, Redemption},
};

impl Engine {
    /// Describes a usable link for the new-password page. Changes nothing: no consumption,
    /// no attempt counted, no provider call.
    pub async fn view_token(&self, token_text: &str) -> Result<TokenView, InvalidLink> {
        let presented = Presented::Link(LinkToken::parse(token_text));
        let verified = match presented.verify(&self.inner).await {
            Ok(verified) => verified,
            Err(refused) => {
                // Views are unauthenticated GETs (scanners included): log, but write nothing.
                tracing::info!(
                    target: crate::SECURITY_TARGET,
                    tenant = refused.tenant.as_ref().map(|t| t.as_str()),
                    outcome = refused.reason,
                    "reset link view refused"
                );
                return Err(InvalidLink);
            }
        };
        if strategy::for_tenant(&verified.tenant.config).redemption() != Redemption::PassgateToken {
            return Err(InvalidLink);
        }
        let config = &verified.tenant.config;
        Ok(TokenView {
            tenant_id: config.id.clone(),
            client_id: verified.row.client_id.clone(),
            display_name: config.display_name.clone(),
            locale: verified.row.locale.clone(),
            expires_at: verified.row.expires_at,
            policy: config.policy_spec().clone(),
            masked_account: crate::email_address::mask_account(&verified.row.email),
        })
    }

    /// Code mode: checks the typed code before the new-password page, so a typo is caught
    /// while the user can still fix it instead of after they chose a password. Counts against
    /// the per-address completion limit; a wrong code counts against the flow's attempts
    /// (it dies after `code_max_attempts`). Consumes nothing: [`Engine::complete_reset`]
    /// checks the code again.
    pub async fn check_code(
        &self,
        flow_id: &str,
        code: &str,
        client_ip: std::net::IpAddr,
        request_id: &str,
    ) -> Result<(), CodeCheckError> {
        match rate_limit::hit_redeem_ip(&self.inner, client_ip).await {
            Ok(true) => {}
            Ok(false) => {
                self.refused("throttled", Some(request_id)).await;
                return Err(CodeCheckError::Throttled);
            }
            Err(_) => return Err(CodeCheckError::TryAgainLater),
        }
        let presented = Presented::Code(FlowId::parse(flow_id), ResetCode::parse(code));
        match presented.verify(&self.inner).await {
            Ok(_) => Ok(()),
            Err(refused) => {
                self.inner
                    .audit
                    .record(AuditRecord {
                        tenant: refused.tenant.as_ref(),
                        client: refused.client.as_ref(),
                        actor: "anonymous".into(),
                        action: action::TOKEN_REFUSED,
                        outcome: refused.reason.to_owned(),
                        request_id: Some(request_id),
                        details: json!({ "step": "code" }),
                    })
                    .await;
                match refused.reason {
                    "wrong_code" => Err(CodeCheckError::Wrong),
                    "unavailable" => Err(CodeCheckError::TryAgainLater),
                    _ => Err(InvalidLink.into()),
                }
            }
        }
    }

    /// Sets the new password: policy → history → fresh account check → atomic consumption →
    /// provider → history record → audit → optional notice. See [`CompleteError`] for what
    /// each failure leaves behind.
    pub async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError> {
        let inner = &self.inner;
        match rate_limit::hit_redeem_ip(inner, input.client_ip).await {
            Ok(true) => {}
            Ok(false) => {
                self.refused("throttled", Some(&input.request_id)).await;
                return Err(CompleteError::Throttled);
            }
            Err(_) => return Err(CompleteError::TryAgainLater),
        }
        let presented = match input.credential {
            Credential::Link { token } => Presented::Link(LinkToken::parse(&token)),
            Credential::Code { flow_id, code } => {
                Presented::Code(FlowId::parse(&flow_id), ResetCode::parse(&code))
            }
            Credential::Janrain { client_id, code } => {
                return self
                    .complete_janrain(
                        &client_id,
                        &code,
                        &input.password,
                        &input.confirmation,
                        &input.request_id,
                    )
                    .await;
            }
        };
        let attempt = Attempt {
            password: input.password,
            confirmation: input.confirmation,
            request_id: input.request_id,
        };
        let mut trace = Trace::default();
        let mut step = Step::Presented(presented);
        let result = loop {
            step = match step {
                Step::Presented(presented) => match presented.verify(inner).await {
                    Ok(verified) => {
                        trace.tenant = Some(verified.tenant.config.id.clone());
                        trace.client = Some(verified.row.client_id.clone());
                        trace.user_id = Some(verified.row.user_id.clone());
                        trace.row = Some(verified.row.hash);
                        match self.hit_shared_buckets(&verified).await {
                            Ok(true) => Step::Verified(Box::new(verified)),
                            Ok(false) => {
                                trace.outcome = "throttled";
                                Step::Done(Err(CompleteError::Throttled))
                            }
                            Err(_) => Step::Done(Err(CompleteError::TryAgainLater)),
                        }
                    }
                    Err(refused) => {
                        trace.outcome = refused.reason;
                        trace.tenant = refused.tenant;
                        trace.client = refused.client;
                        Step::Done(Err(InvalidLink.into()))
                    }
                },
                Step::Verified(verified) => verified.check(inner, &attempt, &mut trace).await,
                Step::Acceptable(acceptable) => acceptable.recheck(inner, &mut trace).await,
                Step::Current(current) => current.consume(inner, &mut trace).await,
                Step::Consumed(consumed) => consumed.apply(inner, &attempt, &mut trace).await,
                Step::Done(result) => break result,
            };
        };
        let result = match result {
            Err(err) if err.is_refused_password() => Err(self.count_refusal(&mut trace, err).await),
            other => other,
        };
        let outcome = if trace.outcome.is_empty() {
            "failed"
        } else {
            trace.outcome
        };
        inner
            .audit
            .record(AuditRecord {
                tenant: trace.tenant.as_ref(),
                client: trace.client.as_ref(),
                actor: trace
                    .user_id
                    .as_ref()
                    .map_or_else(|| "anonymous".to_owned(), |id| format!("user:{id}")),
                action: if trace.user_id.is_some() {
                    action::COMPLETED
                } else {
                    action::TOKEN_REFUSED
                },
                outcome: outcome.to_owned(),
                request_id: Some(&attempt.request_id),
                details: json!({}),
            })
            .await;
        result
    }

    /// The token's bucket, then — only for an attempt it let through — the tenant's: one
    /// token (however many addresses it comes from) spends a bounded share of the tenant's.
    async fn hit_shared_buckets(
        &self,
        verified: &crate::flow::Verified,
    ) -> Result<bool, crate::error::EngineError> {
        let inner = &self.inner;
        let tenant = &verified.tenant.config.id;
        if !rate_limit::hit_redeem_token(inner, tenant, &verified.row.hash).await? {
            return Ok(false);
        }
        rate_limit::hit_redeem_tenant(inner, tenant).await
    }

    /// Counts a refused password against its token or flow; the refusal that reaches
    /// `redeem_max_refusals` spends it, and that attempt already answers "invalid link".
    async fn count_refusal(&self, trace: &mut Trace, refusal: CompleteError) -> CompleteError {
        let inner = &self.inner;
        let (Some(tenant), Some(row)) = (trace.tenant.as_ref(), trace.row.as_ref()) else {
            return refusal;
        };
        let max = inner.settings.redeem_max_refusals;
        match inner
            .store
            .record_failed_attempt(tenant, row, max, inner.clock.now())
            .await
        {
            Ok(attempts) if attempts >= max => {
                trace.outcome = "refusals_exhausted";
                InvalidLink.into()
            }
            _ => refusal,
        }
    }

    async fn complete_janrain(
        &self,
        client_id: &str,
        code: &secrecy::SecretString,
        password: &secrecy::SecretString,
        confirmation: &secrecy::SecretString,
        request_id: &str,
    ) -> Result<Completed, CompleteError> {
        let inner = &self.inner;
        let client = ClientId::parse(client_id).map_err(|_| InvalidLink)?;
        let tenant = inner
            .tenants
            .by_client(&client)
            .await
            .map_err(|_| CompleteError::TryAgainLater)?
            .ok_or(InvalidLink)?;
        if strategy::for_tenant(&tenant.config).redemption() != Redemption::ProviderCode {
            self.refused("wrong_mode", Some(request_id)).await;
            return Err(InvalidLink.into());
        }
        use secrecy::ExposeSecret;
        let same: bool = subtle::ConstantTimeEq::ct_eq(
            password.expose_secret().as_bytes(),
            confirmation.expose_secret().as_bytes(),
        )
        .into();
        if !same {
            return Err(CompleteError::Mismatch);
        }
        strategy::janrain::complete(inner, &tenant, code, password, request_id)
            .await
            .map(|done| Completed {
                client_id: Some(client.as_str().to_owned()),
                ..done
            })
    }

    async fn refused(&self, reason: &str, request_id: Option<&str>) {
        self.inner
            .audit
            .record(AuditRecord {
                tenant: None,
                client: None,
                actor: "anonymous".into(),
                action: action::TOKEN_REFUSED,
                outcome: reason.to_owned(),
                request_id,
                details: json!({}),
            })
            .await;
    }
}
