//! [`Tokens`]: the token and flow rows of hosted mode — their keyed digests, their sealed
//! email, and every change the reset makes to them (insert, supersede, consume, release,
//! count a failure). It owns exactly what that needs: the store, the token-hash key, the
//! keyring (the row's email is sealed to it) and the clock.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use passgate_idp::ProviderUser;
use passgate_store::{
    NewResetToken, ResetToken, Sha256Digest, Store, StoreError, TokenId, TokenPurpose, TokenRepo,
};
use passgate_tenant::{ClientId, TenantId};

use crate::{
    at_rest,
    clock::Clock,
    error::EngineError,
    sealing::Keyring,
    secret_token::{FlowId, LinkToken, ResetCode, TokenDigest, TokenHasher},
};

/// The store's key for a digest.
pub(crate) fn stored(digest: TokenDigest) -> Sha256Digest {
    Sha256Digest::from_bytes(digest.to_bytes())
}

/// The stored form of a provider's `last_password_reset` snapshot.
pub(crate) fn snapshot_time(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// Why a row could not be read.
#[derive(Debug)]
pub(crate) enum ReadFailure {
    /// The database did not answer.
    Unavailable,
    /// The row's sealed email does not open (another key, tampering, a pre-upgrade row).
    Unsealable(Box<ResetToken>),
}

/// What a new row is for: the user it is bound to, its key and purpose, and the request it
/// answers.
#[derive(Debug)]
pub(crate) struct RowSpec<'a> {
    pub(crate) tenant: &'a TenantId,
    pub(crate) client: &'a ClientId,
    pub(crate) user: &'a ProviderUser,
    pub(crate) hash: Sha256Digest,
    pub(crate) purpose: TokenPurpose,
    pub(crate) locale: &'a str,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) ttl: std::time::Duration,
}

/// Hosted-mode rows.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    store: Store,
    /// Rows are keyed by HMACs of their secrets, never the secrets.
    hasher: TokenHasher,
    /// Seals the account address to its row (item 53).
    keyring: Keyring,
    clock: Arc<dyn Clock>,
}

impl Tokens {
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
        }
    }

    /// Now, by the engine's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The key of a link token's row.
    pub(crate) fn link_key(&self, token: &LinkToken) -> Sha256Digest {
        stored(self.hasher.link(token))
    }

    /// The key of a code flow's row.
    pub(crate) fn flow_key(&self, flow: &FlowId) -> Sha256Digest {
        stored(self.hasher.flow(flow))
    }

    /// The key of the row that proves `code` for `flow`.
    pub(crate) fn code_key(&self, flow: &FlowId, code: &ResetCode) -> Sha256Digest {
        stored(self.hasher.code(flow, code))
    }

    /// A keyed digest of an account's lookup key (owners of unbound flows).
    pub(crate) fn account_digest(&self, lookup_key: &str) -> String {
        self.hasher.account(lookup_key).to_hex()
    }

    /// The row under `hash`, its email opened; `Ok(None)` when there is none.
    pub(crate) async fn find(
        &self,
        hash: &Sha256Digest,
    ) -> Result<Option<ResetToken>, ReadFailure> {
        let Some(mut row) = self
            .store
            .lookup_token(hash)
            .await
            .map_err(|_| ReadFailure::Unavailable)?
        else {
            return Ok(None);
        };
        match at_rest::open_token_email(&self.keyring, &row) {
            Ok(email) => {
                row.email = email;
                Ok(Some(row))
            }
            Err(_) => Err(ReadFailure::Unsealable(Box::new(row))),
        }
    }

    /// Whether the code row under `code_key` proves the flow `flow_row`: same tenant and
    /// user, not superseded.
    pub(crate) async fn proves(
        &self,
        code_key: &Sha256Digest,
        flow_row: &ResetToken,
    ) -> Result<bool, StoreError> {
        Ok(self.store.lookup_token(code_key).await?.is_some_and(|c| {
            c.tenant_id == flow_row.tenant_id
                && c.user_id == flow_row.user_id
                && c.invalidated_at.is_none()
        }))
    }

    /// A row for `spec`, valid for its TTL from now (valid at TTL, dead at TTL + 1 s).
    pub(crate) fn row(&self, spec: &RowSpec<'_>) -> Result<NewResetToken, EngineError> {
        let now = self.clock.now();
        let ttl = TimeDelta::from_std(spec.ttl).unwrap_or(TimeDelta::minutes(30));
        // Completion needs the address again; it is kept sealed to this row (item 53).
        let email =
            at_rest::seal_token_email(&self.keyring, spec.tenant, &spec.hash, &spec.user.email)?;
        Ok(NewResetToken {
            hash: spec.hash,
            tenant_id: spec.tenant.clone(),
            client_id: spec.client.clone(),
            user_id: spec.user.user_id.clone(),
            connection: Some(spec.user.connection.clone()),
            email,
            last_password_reset: snapshot_time(spec.user.last_password_reset),
            purpose: spec.purpose,
            locale: spec.locale.to_owned(),
            redirect_uri: spec.redirect_uri.map(str::to_owned),
            created_at: now,
            // The store treats `expires_at` as the first dead instant.
            expires_at: now + ttl + TimeDelta::seconds(1),
        })
    }

    /// Invalidates every unused row of `user` for `client` (a new request supersedes them; an
    /// account change kills them).
    pub(crate) async fn supersede(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        user: &str,
    ) -> Result<u64, StoreError> {
        self.store
            .invalidate_user_tokens(tenant, client, user, self.clock.now())
            .await
    }

    /// Spends the row with one conditional update: only one caller, even concurrent, wins.
    pub(crate) async fn consume(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
    ) -> Result<ResetToken, StoreError> {
        self.store
            .consume_token(tenant, hash, self.clock.now())
            .await
    }

    /// Gives a consumed row back (the provider definitely did not apply the change).
    pub(crate) async fn release(&self, tenant: &TenantId, id: TokenId) -> bool {
        self.store.release_token(tenant, id).await.unwrap_or(false)
    }

    /// Counts one failure (wrong code, refused password) on the row; returns the count. The
    /// row dies at `max`.
    pub(crate) async fn count_failure(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
        max: u32,
    ) -> Result<u32, StoreError> {
        self.store
            .record_failed_attempt(tenant, hash, max, self.clock.now())
            .await
    }
}
