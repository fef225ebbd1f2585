//! Janrain mode (the seed's flow): `forgot_password_native` makes Janrain mail a link with a
//! one-time code to Passgate's page; on submit, the tenant's rules check the new password
//! first, then the code is exchanged for a user access token and the password is set with
//! `update_profile_native`.
//!
//! Janrain's `no_such_account` never surfaces: the request step answered long before. A
//! provider policy rejection keeps the access token (per code, in memory, under a per-code
//! lock), so the user can correct the password with the same link; after a success the code
//! is marked spent, so concurrent or later submissions cannot set a second password.

use std::sync::Arc;

use async_trait::async_trait;
use passgate_idp::{IdpError, ResetAuthorization};
use passgate_policy::CheckContext;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::Mutex;

use super::{IssueRequest, Issued, Redemption, ResetStrategy};
use crate::{
    audit::{AuditRecord, action},
    engine::Inner,
    error::{CompleteError, EngineError, InvalidLink},
    flow::{Completed, provider_rejection_key},
    tenants::TenantRuntime,
};

/// Janrain mode.
#[derive(Debug)]
pub(crate) struct Janrain;

#[async_trait]
impl ResetStrategy for Janrain {
    fn name(&self) -> &'static str {
        "janrain"
    }

    fn redemption(&self) -> Redemption {
        Redemption::ProviderCode
    }

    async fn issue(
        &self,
        inner: &Inner,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let provider = inner.providers.provider(&request.tenant.config).await?;
        match provider.send_reset_email(&request.email.lookup_key()).await {
            Ok(()) => Ok(Issued::ProviderMailed),
            Err(IdpError::NoSuchAccount) => Ok(Issued::UnknownUser),
            Err(err) => Err(err.into()),
        }
    }
}

/// Where one emailed code is, in this process.
#[derive(Debug, Default)]
pub(crate) enum CodeState {
    /// Not redeemed yet by this process.
    #[default]
    Fresh,
    /// Redeemed; the access token is kept for a corrected password.
    Authorized(Arc<ResetAuthorization>),
    /// A password was set (or may have been) with it.
    Spent,
}

/// Per-code state, keyed by a keyed digest of the code (never the code).
pub(crate) type JanrainCodes = moka::future::Cache<[u8; 32], Arc<Mutex<CodeState>>>;

/// A cache sized for a busy hour; entries live as long as a Janrain access token.
pub(crate) fn code_cache() -> JanrainCodes {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(std::time::Duration::from_secs(3600))
        .build()
}

/// Completes a Janrain reset: policy → code → access token → profile update.
pub(crate) async fn complete(
    inner: &Inner,
    tenant: &Arc<TenantRuntime>,
    code: &SecretString,
    password: &SecretString,
    request_id: &str,
) -> Result<Completed, CompleteError> {
    let config = &tenant.config;
    let locale = config.locales.default.clone();
    let context = CheckContext::new(config.display_name.clone(), locale.as_str());
    let violations = crate::flow::check_policy(tenant, password, context).await?;
    if !violations.is_empty() {
        return Err(CompleteError::PolicyViolations(violations));
    }
    if !inner.provider_allowed(&config.id) {
        return Err(CompleteError::TryAgainLater);
    }
    let provider = inner
        .providers
        .provider(config)
        .await
        .map_err(|_| CompleteError::TryAgainLater)?;
    let key = inner
        .hasher
        .account(&format!("janrain-code:{}", code.expose_secret()))
        .to_bytes();
    let slot = inner
        .janrain_codes
        .get_with(key, async { Arc::default() })
        .await;
    let mut state = slot.lock().await;
    let authorization = match &*state {
        CodeState::Spent => return Err(InvalidLink.into()),
        CodeState::Authorized(authorization) => Arc::clone(authorization),
        CodeState::Fresh => match provider.redeem_reset_code(code).await.inspect_err(|err| {
            inner
                .breakers
                .record(&config.id, err.is_retryable(), inner.clock.now());
        }) {
            Ok(authorization) => {
                let authorization = Arc::new(authorization);
                *state = CodeState::Authorized(Arc::clone(&authorization));
                authorization
            }
            Err(err) if err.is_retryable() => return Err(CompleteError::TryAgainLater),
            Err(_) => {
                *state = CodeState::Spent;
                return Err(InvalidLink.into());
            }
        },
    };
    let outcome = provider
        .set_password_with_authorization(&authorization, password)
        .await;
    inner.provider_outcome(&config.id, &outcome);
    let (result, outcome_name) = match outcome {
        Ok(()) => {
            *state = CodeState::Spent;
            (
                Ok(Completed {
                    redirect_uri: None,
                    client_id: None,
                    locale: locale.as_str().to_owned(),
                }),
                "ok",
            )
        }
        Err(err) if err.is_policy_rejection() => (
            Err(CompleteError::ProviderRejected {
                message_key: provider_rejection_key(&err),
            }),
            "provider_rejected",
        ),
        Err(err) if err.is_ambiguous() => {
            *state = CodeState::Spent;
            (
                Err(CompleteError::Unconfirmed {
                    likely_applied: false,
                }),
                "unconfirmed",
            )
        }
        Err(IdpError::ExpiredToken | IdpError::InvalidCode | IdpError::ExpiredCode) => {
            *state = CodeState::Spent;
            (Err(InvalidLink.into()), "expired")
        }
        Err(_) => (Err(CompleteError::TryAgainLater), "provider_unavailable"),
    };
    drop(state);
    inner
        .audit
        .record(AuditRecord {
            tenant: Some(&config.id),
            client: None,
            actor: "system".into(),
            action: action::COMPLETED,
            outcome: outcome_name.into(),
            request_id: Some(request_id),
            details: json!({ "mode": "janrain" }),
        })
        .await;
    result
}
