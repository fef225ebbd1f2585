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
use passgate_store::{JanrainCode, JanrainCodeRepo, JanrainCodeState, Sha256Digest, Store};
use passgate_tenant::TenantId;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{IssueRequest, Issued, Issuer, Redemption, ResetStrategy};
use crate::{
    at_rest::{open_blob, seal_blob},
    clock::Clock,
    error::EngineError,
    outcome::{Refusal, Unavailable},
    sealing::Keyring,
    secret_token::TokenHasher,
    tokens::stored,
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
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let provider = issuer.providers.provider(&request.tenant.config).await?;
        match provider.send_reset_email(&request.email.lookup_key()).await {
            Ok(()) => Ok(Issued::ProviderMailed),
            Err(IdpError::NoSuchAccount) => Ok(Issued::UnknownUser),
            Err(err) => Err(err.into()),
        }
    }
}

/// What the database says about a code, for the tenant it is presented through.
#[derive(Debug)]
pub(crate) enum Known {
    /// Never redeemed by Passgate.
    Fresh,
    /// Redeemed for this tenant; the access token still works.
    Authorized(ResetAuthorization),
}

/// Why a code cannot be used, and the tenant that redeemed it (for the audit trail).
#[derive(Debug)]
pub(crate) struct Unusable {
    pub(crate) refusal: Refusal,
    pub(crate) owner: TenantId,
}

/// The shared state of Janrain codes (`janrain_codes`, keyed by a keyed digest of the code),
/// and this process's per-code locks.
#[derive(Debug, Clone)]
pub(crate) struct JanrainCodes {
    store: Store,
    /// Codes are keyed by an HMAC, never stored.
    hasher: TokenHasher,
    /// Seals the access token kept between a rejection and its correction.
    keyring: Keyring,
    clock: Arc<dyn Clock>,
    /// Concurrent submissions of one code on one replica queue behind each other; entries
    /// live as long as a Janrain access token.
    locks: moka::future::Cache<[u8; 32], Arc<Mutex<()>>>,
}

/// The associated data of a sealed access token: bound to its tenant and code.
fn authorization_context(tenant: &TenantId, digest: &Sha256Digest) -> String {
    format!("janrain-auth:{}:{}", tenant.as_str(), digest.to_hex())
}

impl JanrainCodes {
    pub(crate) fn new(
        store: Store,
        hasher: TokenHasher,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            hasher,
            keyring,
            clock,
            // Sized for a busy hour.
            locks: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(3600))
                .build(),
        }
    }

    /// The key of a code.
    pub(crate) fn digest(&self, code: &SecretString) -> Sha256Digest {
        stored(self.hasher.janrain_code(code.expose_secret()))
    }

    /// Waits for this process's lock on the code.
    pub(crate) async fn lock(&self, digest: &Sha256Digest) -> OwnedMutexGuard<()> {
        let slot = self
            .locks
            .get_with(*digest.as_bytes(), async { Arc::default() })
            .await;
        slot.lock_owned().await
    }

    /// The code's shared state for `tenant`: refused when another tenant redeemed it, when it
    /// is spent, or when its access token expired.
    pub(crate) async fn known(
        &self,
        tenant: &TenantId,
        digest: &Sha256Digest,
    ) -> Result<Result<Known, Unusable>, Unavailable> {
        let row = self
            .store
            .janrain_code(digest)
            .await
            .map_err(|_| Unavailable::Database)?;
        let Some(row) = row else {
            return Ok(Ok(Known::Fresh));
        };
        let unusable = |refusal| {
            Ok(Err(Unusable {
                refusal,
                owner: row.tenant_id.clone(),
            }))
        };
        if &row.tenant_id != tenant {
            return unusable(Refusal::ForeignTenant);
        }
        let now = self.clock.now();
        match &row.state {
            JanrainCodeState::Spent => unusable(Refusal::Used),
            JanrainCodeState::Authorized { expires_at, .. } if *expires_at <= now => {
                unusable(Refusal::Expired)
            }
            JanrainCodeState::Authorized {
                authorization,
                expires_at,
            } => {
                let context = authorization_context(tenant, digest);
                let Ok(plain) = open_blob(&self.keyring, authorization, &context) else {
                    return unusable(Refusal::Unsealable);
                };
                let Ok(token) = String::from_utf8(plain) else {
                    return unusable(Refusal::Unsealable);
                };
                let left = (*expires_at - now).to_std().unwrap_or_default();
                Ok(Ok(Known::Authorized(ResetAuthorization {
                    access_token: SecretString::from(token),
                    expires_in: left,
                })))
            }
        }
    }

    /// Records the first redemption of a code for `tenant`, its access token sealed. `false`
    /// when another replica recorded it first.
    pub(crate) async fn record_redemption(
        &self,
        tenant: &TenantId,
        digest: &Sha256Digest,
        authorization: &ResetAuthorization,
    ) -> Result<bool, Unavailable> {
        let sealed = seal_blob(
            &self.keyring,
            authorization.access_token.expose_secret().as_bytes(),
            &authorization_context(tenant, digest),
        )
        .map_err(|_| Unavailable::Worker)?;
        let now = self.clock.now();
        let life = TimeDelta::from_std(authorization.expires_in).unwrap_or(TimeDelta::hours(1));
        self.store
            .insert_janrain_code(JanrainCode {
                digest: *digest,
                tenant_id: tenant.clone(),
                state: JanrainCodeState::Authorized {
                    authorization: sealed,
                    expires_at: now + life,
                },
                created_at: now,
            })
            .await
            .map_err(|_| Unavailable::Database)
    }

    /// Marks the code spent for every replica (a failure is logged: the provider call is
    /// done).
    pub(crate) async fn spend(&self, tenant: &TenantId, digest: &Sha256Digest) {
        if let Err(err) = self.store.spend_janrain_code(tenant, digest).await {
            tracing::error!(target: crate::audit::SECURITY_TARGET, tenant = tenant.as_str(), error = %err, "janrain code not marked spent");
        }
    }
}
