//! Janrain mode (the seed's flow): `forgot_password_native` makes Janrain mail a link with a
//! one-time code to Passgate's page; on submit, the tenant's rules check the new password
//! first, then the code is exchanged for a user access token and the password is set with
//! `update_profile_native`.
//!
//! Janrain's `no_such_account` never surfaces: the request step answered long before.
//!
//! A code's state lives in the database (`janrain_codes`, keyed by a keyed digest of the
//! code), so every replica sees the same thing:
//! - the first redemption records the tenant it was made for; the code presented through
//!   any other tenant's client id is refused before that tenant's rules or any provider
//!   call (a fresh code through the wrong tenant fails at Janrain, which binds a code to
//!   the `redirect_uri` carrying the right client id);
//! - a provider policy rejection keeps the access token, sealed, so the user can correct
//!   the password with the same link on any replica;
//! - after a success (or an ambiguous answer) the code is spent for every replica.
//!
//! Concurrent submissions of one code queue on a per-code lock in each process; across
//! replicas Janrain itself redeems a code once, and the row insert is conditional.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use passgate_idp::{IdpError, ResetAuthorization};
use passgate_policy::CheckContext;
use passgate_store::{EncryptedBlob, JanrainCode, JanrainCodeRepo, JanrainCodeState, Sha256Digest};
use passgate_tenant::{ClientId, TenantId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::Mutex;

use super::{IssueRequest, Issued, Redemption, ResetStrategy, hosted::stored};
use crate::{
    audit::{AuditRecord, action},
    engine::{Engine, Inner},
    error::{CompleteError, EngineError, InvalidLink},
    flow::{Completed, provider_rejection_key},
    providers::open_blob,
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

/// Per-code locks of this process, keyed by the code's digest: concurrent submissions of
/// one code on one replica queue behind each other. The state itself is in the database.
pub(crate) type JanrainCodes = moka::future::Cache<[u8; 32], Arc<Mutex<()>>>;

/// A cache sized for a busy hour; entries live as long as a Janrain access token.
pub(crate) fn code_cache() -> JanrainCodes {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(std::time::Duration::from_secs(3600))
        .build()
}

/// What the database says about a code, for the tenant it is presented through.
enum Known {
    /// Never redeemed by Passgate.
    Fresh,
    /// Redeemed for this tenant; the access token still works.
    Authorized(ResetAuthorization),
}

/// Why a code cannot be used (for the audit trail; the user sees the invalid-link page).
struct Unusable {
    reason: &'static str,
    owner: Option<TenantId>,
}

/// The associated data of a sealed access token: bound to its tenant and code.
fn authorization_context(tenant: &TenantId, digest: &Sha256Digest) -> String {
    format!("janrain-auth:{}:{}", tenant.as_str(), digest.to_hex())
}

/// The code's shared state for `tenant`: refused when another tenant redeemed it, when it
/// is spent, or when its access token expired.
async fn known(
    inner: &Inner,
    tenant: &TenantId,
    digest: &Sha256Digest,
) -> Result<Result<Known, Unusable>, CompleteError> {
    let row = inner
        .store
        .janrain_code(digest)
        .await
        .map_err(|_| CompleteError::TryAgainLater)?;
    let Some(row) = row else {
        return Ok(Ok(Known::Fresh));
    };
    let unusable = |reason| {
        Ok(Err(Unusable {
            reason,
            owner: Some(row.tenant_id.clone()),
        }))
    };
    if &row.tenant_id != tenant {
        return unusable("foreign_tenant");
    }
    match &row.state {
        JanrainCodeState::Spent => unusable("used"),
        JanrainCodeState::Authorized { expires_at, .. } if *expires_at <= inner.clock.now() => {
            unusable("expired")
        }
        JanrainCodeState::Authorized {
            authorization,
            expires_at,
        } => {
            let Ok(plain) = open_blob(
                &inner.keyring,
                authorization,
                &authorization_context(tenant, digest),
            ) else {
                return unusable("unsealable");
            };
            let Ok(token) = String::from_utf8(plain) else {
                return unusable("unsealable");
            };
            let left = (*expires_at - inner.clock.now())
                .to_std()
                .unwrap_or_default();
            Ok(Ok(Known::Authorized(ResetAuthorization {
                access_token: SecretString::from(token),
                expires_in: left,
            })))
        }
    }
}

/// Records the first redemption of a code for `tenant`, its access token sealed. `false`
/// when another replica recorded it first.
async fn record_redemption(
    inner: &Inner,
    tenant: &TenantId,
    digest: &Sha256Digest,
    authorization: &ResetAuthorization,
) -> Result<bool, CompleteError> {
    let sealed = inner
        .keyring
        .seal(
            authorization.access_token.expose_secret().as_bytes(),
            &authorization_context(tenant, digest),
        )
        .map_err(|_| CompleteError::TryAgainLater)?;
    let now = inner.clock.now();
    let life = TimeDelta::from_std(authorization.expires_in).unwrap_or(TimeDelta::hours(1));
    inner
        .store
        .insert_janrain_code(JanrainCode {
            digest: *digest,
            tenant_id: tenant.clone(),
            state: JanrainCodeState::Authorized {
                authorization: EncryptedBlob {
                    ciphertext: sealed.ciphertext,
                    nonce: sealed.nonce.to_vec(),
                    key_id: sealed.key_id.as_str().to_owned(),
                },
                expires_at: now + life,
            },
            created_at: now,
        })
        .await
        .map_err(|_| CompleteError::TryAgainLater)
}

/// Marks the code spent for every replica (a failure is logged: the provider call is done).
async fn spend(inner: &Inner, tenant: &TenantId, digest: &Sha256Digest) {
    if let Err(err) = inner.store.spend_janrain_code(tenant, digest).await {
        tracing::error!(target: crate::SECURITY_TARGET, tenant = tenant.as_str(), error = %err, "janrain code not marked spent");
    }
}

async fn refused(inner: &Inner, unusable: Unusable, request_id: &str) -> CompleteError {
    inner
        .audit
        .record(AuditRecord {
            tenant: unusable.owner.as_ref(),
            client: None,
            actor: "anonymous".into(),
            action: action::TOKEN_REFUSED,
            outcome: unusable.reason.into(),
            request_id: Some(request_id),
            details: json!({ "mode": "janrain" }),
        })
        .await;
    InvalidLink.into()
}

impl Engine {
    /// The Janrain landing's check before it keeps a code in the reset cookie: the client id
    /// names a Janrain tenant, and the code is not spent or redeemed for another tenant.
    /// Changes nothing (a fresh code can only be proven by redeeming it, on submit).
    pub async fn view_janrain_code(&self, client_id: &str, code: &str) -> Result<(), InvalidLink> {
        let inner = &self.inner;
        let client = ClientId::parse(client_id).map_err(|_| InvalidLink)?;
        let tenant = inner
            .tenants
            .by_client(&client)
            .await
            .ok()
            .flatten()
            .ok_or(InvalidLink)?;
        if super::for_tenant(&tenant.config).redemption() != Redemption::ProviderCode {
            return Err(InvalidLink);
        }
        let digest = stored(inner.hasher.janrain_code(code));
        match known(inner, &tenant.config.id, &digest).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(unusable)) => {
                tracing::info!(target: crate::SECURITY_TARGET, outcome = unusable.reason, "janrain landing refused");
                Err(InvalidLink)
            }
            Err(_) => Err(InvalidLink),
        }
    }
}

/// Completes a Janrain reset: shared code state → policy → code → access token → profile
/// update.
pub(crate) async fn complete(
    inner: &Inner,
    tenant: &Arc<TenantRuntime>,
    code: &SecretString,
    password: &SecretString,
    request_id: &str,
) -> Result<Completed, CompleteError> {
    let config = &tenant.config;
    let digest = stored(inner.hasher.janrain_code(code.expose_secret()));
    // Bound to the tenant that redeemed it and spent for every replica: refused before this
    // tenant's rules or any provider call.
    if let Err(unusable) = known(inner, &config.id, &digest).await? {
        return Err(refused(inner, unusable, request_id).await);
    }
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
    let slot = inner
        .janrain_codes
        .get_with(*digest.as_bytes(), async { Arc::default() })
        .await;
    let guard = slot.lock().await;
    let authorization = match known(inner, &config.id, &digest).await? {
        Err(unusable) => return Err(refused(inner, unusable, request_id).await),
        Ok(Known::Authorized(authorization)) => authorization,
        Ok(Known::Fresh) => match provider.redeem_reset_code(code).await.inspect_err(|err| {
            inner
                .breakers
                .record(&config.id, err.is_retryable(), inner.clock.now());
        }) {
            Ok(authorization) => {
                if !record_redemption(inner, &config.id, &digest, &authorization).await? {
                    // Another replica redeemed it a moment ago: theirs is the one attempt.
                    return Err(InvalidLink.into());
                }
                authorization
            }
            Err(err) if err.is_retryable() => return Err(CompleteError::TryAgainLater),
            // Not recorded: a code refused here (e.g. another tenant's) must not be spoiled
            // for the tenant it belongs to.
            Err(_) => return Err(InvalidLink.into()),
        },
    };
    let outcome = provider
        .set_password_with_authorization(&authorization, password)
        .await;
    inner.provider_outcome(&config.id, &outcome);
    let (result, outcome_name) = match outcome {
        Ok(()) => {
            spend(inner, &config.id, &digest).await;
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
            spend(inner, &config.id, &digest).await;
            (
                Err(CompleteError::Unconfirmed {
                    likely_applied: false,
                }),
                "unconfirmed",
            )
        }
        Err(IdpError::ExpiredToken | IdpError::InvalidCode | IdpError::ExpiredCode) => {
            spend(inner, &config.id, &digest).await;
            (Err(InvalidLink.into()), "expired")
        }
        Err(_) => (Err(CompleteError::TryAgainLater), "provider_unavailable"),
    };
    drop(guard);
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
