//! The redemption entry points — [`Engine::view_token`] and [`Engine::view_janrain_code`]
//! (read only: mail scanners open links), [`Engine::check_code`], and
//! [`Engine::complete_reset`] — and the one driver of the machine in [`crate::flow`]. The
//! driver applies to every mode alike (hosted link, hosted code, Janrain): the per-client,
//! per-credential and per-tenant rate limits, the confirmation check (once), the refusal
//! count, and one audit event for every `Done(Outcome)`.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::{
    audit::{AuditRecord, SECURITY_TARGET, action},
    engine::Engine,
    error::{CodeCheckError, CompleteError, InvalidLink},
    flow::{
        Attempt, CompleteInput, Completed, Presented, Step, TokenView, Trace, Usable, Verified,
    },
    outcome::{Outcome, Refusal, Unavailable},
    secret_token::{FlowId, LinkToken, ResetCode},
    strategy::{self, Redemption},
};

impl Engine {
    /// Describes a usable link for the new-password page. Changes nothing: no consumption,
    /// no attempt counted, no provider call.
    pub async fn view_token(&self, token_text: &str) -> Result<TokenView, InvalidLink> {
        let verified = self
            .read_link(token_text, "reset link view refused")
            .await?;
        let Usable::Row(row) = &verified.usable else {
            return Err(InvalidLink);
        };
        let config = &verified.tenant.config;
        Ok(TokenView {
            tenant_id: config.id.clone(),
            client_id: row.client_id.clone(),
            display_name: config.display_name.clone(),
            locale: row.locale.clone(),
            expires_at: row.expires_at,
            policy: config.policy_spec().clone(),
            masked_account: crate::email_address::mask_account(&row.email),
        })
    }

    /// A usable link of a tenant whose mode redeems Passgate tokens, read without writing
    /// anything (views and live checks are unauthenticated GETs and scanners: a refusal is
    /// logged as `what`).
    pub(crate) async fn read_link(
        &self,
        token_text: &str,
        what: &str,
    ) -> Result<Verified, InvalidLink> {
        self.read(Presented::Link(LinkToken::parse(token_text)), what)
            .await
    }

    /// [`Self::read_link`] for a code-mode reset's flow id and code. A wrong code counts
    /// against the flow's attempts as on the code page, so reading is no code oracle.
    pub(crate) async fn read_code(
        &self,
        flow_id: &str,
        code: &str,
        what: &str,
    ) -> Result<Verified, InvalidLink> {
        let presented = Presented::Code(FlowId::parse(flow_id), ResetCode::parse(code));
        self.read(presented, what).await
    }

    /// Verifies a Passgate credential for reading; a refusal is logged as `what`.
    async fn read(&self, presented: Presented, what: &str) -> Result<Verified, InvalidLink> {
        let verified = self.verify(presented).await.map_err(|stopped| {
            tracing::info!(
                target: SECURITY_TARGET,
                tenant = stopped.tenant.as_ref().map(|t| t.as_str()),
                outcome = stopped.outcome.as_str(),
                "{what}"
            );
            InvalidLink
        })?;
        if strategy::for_tenant(&verified.tenant.config).redemption() != Redemption::PassgateToken {
            return Err(InvalidLink);
        }
        Ok(verified)
    }

    /// The Janrain landing's check before it keeps a code in the reset cookie: the client id
    /// names a Janrain tenant, and the code is not spent or redeemed for another tenant.
    /// Changes nothing (a fresh code can only be proven by redeeming it, on submit).
    pub async fn view_janrain_code(&self, client_id: &str, code: &str) -> Result<(), InvalidLink> {
        let presented = Presented::Janrain {
            client: client_id.to_owned(),
            code: SecretString::from(code.to_owned()),
        };
        match self.verify(presented).await {
            Ok(_) => Ok(()),
            Err(stopped) => {
                tracing::info!(target: SECURITY_TARGET, outcome = stopped.outcome.as_str(), "janrain landing refused");
                Err(InvalidLink)
            }
        }
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
        client_ip: IpAddr,
        request_id: &str,
    ) -> Result<(), CodeCheckError> {
        match self.limits.hit_redeem_ip(client_ip).await {
            Ok(true) => {}
            Ok(false) => {
                let trace = Trace::new("hosted_code");
                self.audit_end(&trace, &Outcome::Throttled, request_id, "code")
                    .await;
                return Err(CodeCheckError::Throttled);
            }
            Err(_) => return Err(CodeCheckError::TryAgainLater),
        }
        let presented = Presented::Code(FlowId::parse(flow_id), ResetCode::parse(code));
        let stopped = match self.verify(presented).await {
            Ok(_) => return Ok(()),
            Err(stopped) => stopped,
        };
        let mut trace = Trace::new("hosted_code");
        trace.tenant = stopped.tenant;
        trace.client = stopped.client;
        self.audit_end(&trace, &stopped.outcome, request_id, "code")
            .await;
        match stopped.outcome {
            Outcome::Refused(Refusal::WrongCode) => Err(CodeCheckError::Wrong),
            Outcome::Unavailable(_) => Err(CodeCheckError::TryAgainLater),
            _ => Err(InvalidLink.into()),
        }
    }

    /// Sets the new password, for every mode through one machine: limits → verification →
    /// confirmation → policy → history → (hosted) fresh account check → atomic consumption →
    /// provider, or (Janrain) code → access token → profile update; then the refusal count
    /// and the audit. See [`CompleteError`] for what each failure leaves behind.
    pub async fn complete_reset(&self, input: CompleteInput) -> Result<Completed, CompleteError> {
        let presented = Presented::from_credential(input.credential);
        let attempt = Attempt {
            password: input.password,
            confirmation: input.confirmation,
            request_id: input.request_id,
        };
        let mut trace = Trace::new(presented.mode());
        let outcome = self
            .redeem(presented, input.client_ip, &attempt, &mut trace)
            .await;
        let outcome = self.count_refusal(&trace, outcome).await;
        self.audit_end(&trace, &outcome, &attempt.request_id, "complete")
            .await;
        outcome.into_result()
    }

    /// `Presented` → `Verified` with the engine's components.
    async fn verify(&self, presented: Presented) -> Result<Verified, crate::outcome::Stopped> {
        presented
            .verify(
                &self.tokens,
                self.tenants.as_ref(),
                &self.janrain,
                self.settings.code_max_attempts,
            )
            .await
    }

    /// Runs the machine to its end.
    async fn redeem(
        &self,
        presented: Presented,
        client_ip: IpAddr,
        attempt: &Attempt,
        trace: &mut Trace,
    ) -> Outcome {
        match self.limits.hit_redeem_ip(client_ip).await {
            Ok(true) => {}
            Ok(false) => return Outcome::Throttled,
            Err(_) => return Unavailable::Database.into(),
        }
        let mut step = Step::Presented(presented);
        loop {
            step = match step {
                Step::Presented(presented) => match self.verify(presented).await {
                    Ok(verified) => {
                        trace.verified_as(&verified);
                        match self.admit(trace, attempt).await {
                            Some(end) => Step::Done(end),
                            None => Step::Verified(Box::new(verified)),
                        }
                    }
                    Err(stopped) => {
                        trace.tenant = stopped.tenant;
                        trace.client = stopped.client;
                        Step::Done(stopped.outcome)
                    }
                },
                Step::Verified(verified) => verified.check(&self.history, attempt).await,
                Step::Acceptable(acceptable) => {
                    acceptable
                        .proceed(&self.providers, &self.tokens, &self.janrain)
                        .await
                }
                Step::Current(current) => current.consume(&self.tokens).await,
                Step::Consumed(consumed) => {
                    consumed
                        .apply(&self.tokens, &self.aftercare(), attempt)
                        .await
                }
                Step::Authorized(authorized) => authorized.apply(&self.janrain, attempt).await,
                Step::Done(outcome) => break outcome,
            };
        }
    }

    /// For a verified credential: its own bucket, then — only for an attempt it let through
    /// — the tenant's (one credential, however many addresses it comes from, spends a
    /// bounded share of the tenant's); then the confirmation. `None` lets it on.
    async fn admit(&self, trace: &Trace, attempt: &Attempt) -> Option<Outcome> {
        let (Some(tenant), Some(bucket)) = (trace.tenant.as_ref(), trace.bucket.as_ref()) else {
            return Some(Unavailable::Database.into());
        };
        let admitted = match self.limits.hit_redeem_token(tenant, bucket).await {
            Ok(true) => self.limits.hit_redeem_tenant(tenant).await,
            other => other,
        };
        match admitted {
            Ok(true) => {}
            Ok(false) => return Some(Outcome::Throttled),
            Err(_) => return Some(Unavailable::Database.into()),
        }
        let same: bool = subtle::ConstantTimeEq::ct_eq(
            attempt.password.expose_secret().as_bytes(),
            attempt.confirmation.expose_secret().as_bytes(),
        )
        .into();
        (!same).then_some(Outcome::Mismatch)
    }

    /// Counts a refused password against its hosted row; the refusal that reaches
    /// `redeem_max_refusals` spends it, and that attempt already answers "invalid link".
    async fn count_refusal(&self, trace: &Trace, outcome: Outcome) -> Outcome {
        if !outcome.is_refused_password() {
            return outcome;
        }
        let (Some(tenant), Some(row)) = (trace.tenant.as_ref(), trace.row.as_ref()) else {
            return outcome;
        };
        let max = self.settings.redeem_max_refusals;
        match self.tokens.count_failure(tenant, row, max).await {
            Ok(attempts) if attempts >= max => Refusal::RefusalsExhausted.into(),
            _ => outcome,
        }
    }

    /// The one audit event of a redemption's end: a completion once the credential was
    /// verified, a refused token before.
    async fn audit_end(&self, trace: &Trace, outcome: &Outcome, request_id: &str, step: &str) {
        self.audit
            .record(AuditRecord {
                tenant: trace.tenant.as_ref(),
                client: trace.client.as_ref(),
                actor: trace
                    .user_id
                    .as_ref()
                    .map_or_else(|| "anonymous".to_owned(), |id| format!("user:{id}")),
                action: if trace.verified() {
                    action::COMPLETED
                } else {
                    action::TOKEN_REFUSED
                },
                outcome: outcome.as_str().to_owned(),
                request_id: Some(request_id),
                details: json!({ "mode": trace.mode, "step": step }),
            })
            .await;
    }
}

#[cfg(test)]
mod tests;
