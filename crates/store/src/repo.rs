//! The repository traits: what the engine, routing and admin API may ask of storage. Each
//! takes and returns domain types ([`crate::model`]); tenant-scoped methods take the
//! [`TenantId`] and never see another tenant's rows. Time is always an argument.
//!
//! [`crate::Store`] implements all of them over SQLite or PostgreSQL.

use async_trait::async_trait;
use chrono::TimeDelta;
use passgate_tenant::{ClientId, TenantId};

use crate::error::StoreResult;
use crate::model::*;

/// Tenants: creation, status, provider binding, import.
#[async_trait]
pub trait TenantRepo: Send + Sync {
    /// Creates a tenant; [`crate::StoreError::TenantExists`] if the id is taken.
    async fn create_tenant(&self, new: NewTenant, now: Timestamp) -> StoreResult<Tenant>;
    /// One tenant.
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Every tenant with its client ids and active version, sorted by id.
    async fn list_tenants(&self) -> StoreResult<Vec<TenantSummary>>;
    /// Enables or disables a tenant.
    async fn set_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Replaces the provider binding (not the secret).
    async fn set_provider(
        &self,
        id: &TenantId,
        binding: ProviderBinding,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Stores (or with `None` clears) the encrypted provider secret.
    async fn set_provider_secret(
        &self,
        id: &TenantId,
        secret: Option<EncryptedBlob>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Applies every part of `change` in one transaction: all of it or, on any error (an
    /// unknown tenant included), none.
    async fn update_tenant(
        &self,
        id: &TenantId,
        change: TenantChange,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The encrypted provider secret, for the engine's provider client only.
    async fn provider_secret(&self, id: &TenantId) -> StoreResult<Option<EncryptedBlob>>;
    /// Starts or changes a move to the tenant's Auth0 binding from a Janrain app, with the
    /// sealed secret of its server-side client; `None` ends the move (all in one write).
    async fn set_move(
        &self,
        id: &TenantId,
        moving: Option<(MoveSource, EncryptedBlob)>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The encrypted secret of a moving tenant's Janrain server-side client.
    async fn move_secret(&self, id: &TenantId) -> StoreResult<Option<EncryptedBlob>>;
    /// Deletes a tenant and every row that belongs to it (audit events stay). `false` if absent.
    async fn delete_tenant(&self, id: &TenantId) -> StoreResult<bool>;
    /// Creates a tenant with everything it starts with in one transaction: the tenant row
    /// with its provider binding and sealed secret, version 1 of its YAML (active), its
    /// client ids and sender-domain grants. [`crate::StoreError::TenantExists`] or
    /// [`crate::StoreError::DuplicateClientId`] (also when another replica won a race)
    /// leave nothing behind.
    async fn onboard_tenant(&self, new: TenantOnboarding, now: Timestamp) -> StoreResult<()>;
    /// Imports validated tenants all-or-nothing in one transaction: creates missing tenants,
    /// stores and activates a new version when the YAML's SHA-256 differs from the active one,
    /// and sets each tenant's client ids to exactly the given list. Any error (e.g. a client id
    /// owned by a tenant outside the import) changes nothing.
    async fn import_tenants(
        &self,
        items: Vec<TenantImport>,
        author: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<ImportResult>>;
}

/// Client ids: unique across all tenants.
#[async_trait]
pub trait ClientIdRepo: Send + Sync {
    /// Registers a client id; [`crate::StoreError::DuplicateClientId`] if any tenant has it.
    async fn add_client_id(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Removes a client id of this tenant; `false` if the tenant does not have it.
    async fn remove_client_id(&self, tenant: &TenantId, client: &ClientId) -> StoreResult<bool>;
    /// The tenant's client ids, sorted.
    async fn client_ids(&self, tenant: &TenantId) -> StoreResult<Vec<ClientId>>;
    /// Which tenant owns a client id.
    async fn tenant_of(&self, client: &ClientId) -> StoreResult<Option<TenantId>>;
}

/// Config versions: append-only, exactly one active per tenant.
#[async_trait]
pub trait ConfigVersionRepo: Send + Sync {
    /// Stores a new version (number = last + 1), activating it atomically when `activate`.
    async fn create_version(
        &self,
        tenant: &TenantId,
        new: NewConfigVersion,
        activate: bool,
        now: Timestamp,
    ) -> StoreResult<ConfigVersionInfo>;
    /// Makes `version` the active one (also how rollback works), atomically.
    async fn activate_version(
        &self,
        tenant: &TenantId,
        version: u32,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Stores and activates a new version only if `expected_active` is still the active
    /// version (0: none) when the write commits — a compare-and-swap under the tenant's row
    /// lock, so two editors, even on two replicas, never overwrite each other.
    /// [`StoreError::VersionConflict`] names the version that is active instead.
    async fn publish_version(
        &self,
        tenant: &TenantId,
        new: NewConfigVersion,
        expected_active: u32,
        now: Timestamp,
    ) -> StoreResult<ConfigVersionInfo>;
    /// Activates `version` only if `expected_active` is still active (see
    /// [`ConfigVersionRepo::publish_version`]).
    async fn activate_version_if(
        &self,
        tenant: &TenantId,
        version: u32,
        expected_active: u32,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// The active version with its text.
    async fn active_version(&self, tenant: &TenantId) -> StoreResult<Option<ConfigVersion>>;
    /// One version with its text.
    async fn version(&self, tenant: &TenantId, version: u32) -> StoreResult<Option<ConfigVersion>>;
    /// Every version's metadata, oldest first.
    async fn versions(&self, tenant: &TenantId) -> StoreResult<Vec<ConfigVersionInfo>>;
}

/// What the routing cache loads on a miss.
#[async_trait]
pub trait RouteSource: Send + Sync {
    /// The tenant, status and active config behind a client id; `None` if unknown.
    async fn load_route(&self, client: &ClientId) -> StoreResult<Option<RouteRecord>>;
}

/// Reset tokens and codes, stored as hashes.
#[async_trait]
pub trait TokenRepo: Send + Sync {
    /// Stores a token.
    async fn insert_token(&self, new: NewResetToken) -> StoreResult<TokenId>;
    /// A token of this tenant by hash, whatever its state.
    async fn find_token(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
    ) -> StoreResult<Option<ResetToken>>;
    /// A token by hash alone, for links that do not name their tenant: knowing a 256-bit
    /// token is the proof. The caller then works within `token.tenant_id`.
    async fn lookup_token(&self, hash: &Sha256Digest) -> StoreResult<Option<ResetToken>>;
    /// Uses a token: one conditional UPDATE that succeeds for exactly one caller even under
    /// concurrency, and only while the token is unused, not invalidated and not expired.
    /// Otherwise [`crate::StoreError::Token`] says why.
    async fn consume_token(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
        now: Timestamp,
    ) -> StoreResult<ResetToken>;
    /// Invalidates every unused token of this user and app (a new request supersedes them).
    /// Returns how many were invalidated.
    async fn invalidate_user_tokens(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        user_id: &str,
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Counts a refused attempt (a wrong code, a refused password); at `max_attempts` the
    /// token is invalidated. Returns the new attempt count.
    async fn record_failed_attempt(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
        max_attempts: u32,
        now: Timestamp,
    ) -> StoreResult<u32>;
    /// Deletes tokens that expired before `before`. Returns how many.
    async fn purge_tokens(&self, before: Timestamp) -> StoreResult<u64>;
    /// Gives a consumed token back after a *definite* provider failure (nothing changed at
    /// the provider, so the user may retry with the same link): one conditional UPDATE that
    /// only touches this tenant's row while it is consumed and not invalidated. `true` if it
    /// was released.
    async fn release_token(&self, tenant: &TenantId, id: TokenId) -> StoreResult<bool>;
}

/// The mail outbox: at-least-once delivery with leases.
#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// Queues an email (due immediately).
    async fn enqueue_mail(&self, new: NewMail) -> StoreResult<MailId>;
    /// Claims up to `limit` due emails (pending and due, or sending with an expired lease) for
    /// `lease`; each claim counts an attempt. Concurrent workers never claim the same email.
    async fn claim_mail(
        &self,
        now: Timestamp,
        lease: TimeDelta,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMail>>;
    /// Marks an email accepted by the SMTP server.
    async fn mark_mail_sent(&self, id: MailId, now: Timestamp) -> StoreResult<()>;
    /// Marks the mails `sent` (accepted by the relay at `now`) and appends `audit`, in one
    /// transaction.
    async fn mark_mails_sent(
        &self,
        sent: &[MailId],
        audit: Vec<NewAuditEvent>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Puts an email back for another attempt at `next_attempt_at`.
    async fn reschedule_mail(
        &self,
        id: MailId,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()>;
    /// Gives up on an email.
    async fn mark_mail_dead(&self, id: MailId, error: &str) -> StoreResult<()>;
    /// One email of this tenant.
    async fn mail(&self, tenant: &TenantId, id: MailId) -> StoreResult<Option<OutboxMail>>;
}

/// Durable background jobs with leases.
#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Queues a job.
    async fn enqueue_job(&self, new: NewJob) -> StoreResult<JobId>;
    /// Claims up to `limit` due jobs for `lease` (same rules as [`OutboxRepo::claim_mail`]).
    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: TimeDelta,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Marks a job finished.
    async fn complete_job(&self, id: JobId, now: Timestamp) -> StoreResult<()>;
    /// Marks the jobs done at `now` with their writes, all in one transaction (and, on
    /// PostgreSQL, announces queued mails to other replicas at commit).
    async fn finish_jobs(&self, finished: Vec<FinishedJob>, now: Timestamp) -> StoreResult<()>;
    /// Puts a job back to run at `run_after`.
    async fn retry_job(&self, id: JobId, error: &str, run_after: Timestamp) -> StoreResult<()>;
    /// Gives up on a job.
    async fn fail_job(&self, id: JobId, error: &str, now: Timestamp) -> StoreResult<()>;
    /// One job of this tenant.
    async fn job(&self, tenant: &TenantId, id: JobId) -> StoreResult<Option<Job>>;
}

/// Fixed-window rate limits shared by every replica.
#[async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// Counts one hit in the window containing `now` (windows are aligned to multiples of
    /// `window` since the Unix epoch) with one atomic upsert; allowed while the count stays
    /// within `limit`.
    async fn hit(
        &self,
        bucket: &RateBucket,
        window: TimeDelta,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<RateDecision>;
    /// One reset request's admission in one write transaction (issue 17 item 4): every
    /// bucket of `always` is counted, in order; those of `then` only while none of `always`
    /// is over, and only up to the first that is; then the job for the outcome
    /// (`admitted`, or the `refused` job of the first bucket over, counting `always` then
    /// `then`) is queued and announced to the workers of every replica. All or nothing.
    async fn admit(&self, admission: Admission, now: Timestamp) -> StoreResult<Admitted>;
    /// [`RateLimitRepo::admit`] for several requests (each with its own time) in one
    /// transaction, in order: each sees the counts of those before it.
    async fn admit_all(&self, admissions: &[(Admission, Timestamp)]) -> StoreResult<Vec<Admitted>>;
    /// Deletes windows that ended before `now`. Returns how many.
    async fn purge_windows(&self, now: Timestamp) -> StoreResult<u64>;
}

/// Hashes of passwords set through Passgate, for "not one of your last N".
#[async_trait]
pub trait HistoryRepo: Send + Sync {
    /// The user's most recent `limit` hashes, newest first.
    async fn recent_hashes(
        &self,
        tenant: &TenantId,
        user_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<HistoryEntry>>;
    /// Records a new hash and keeps only the newest `keep` for this user.
    async fn record_password(
        &self,
        tenant: &TenantId,
        user_id: &str,
        hash: &str,
        keep: u32,
        now: Timestamp,
    ) -> StoreResult<()>;
}

/// Admin API keys, stored as hashes.
#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Stores a key.
    async fn create_api_key(&self, new: NewApiKey) -> StoreResult<ApiKeyId>;
    /// A key by the hash of the presented key (revoked keys included: check `revoked_at`).
    async fn api_key_by_hash(&self, hash: &Sha256Digest) -> StoreResult<Option<ApiKey>>;
    /// A key by its row id (revoked keys included: check `revoked_at`).
    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Every key, oldest first.
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Revokes a key and ends every console session opened with it, in one transaction;
    /// `false` if absent or already revoked.
    async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<bool>;
    /// Records a successful use.
    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<()>;
    /// The console identity of a person the company's OIDC provider signed in: created on
    /// the first sign-in, role, scope and label brought up to date on later ones, in one
    /// transaction. A revoked identity is returned unchanged (still revoked).
    async fn sign_in_oidc_identity(&self, identity: OidcIdentity) -> StoreResult<ApiKey>;
}

/// What each tenant may send mail as (sender domains) and test emails to (recipients),
/// granted by platform admins. Values are compared as stored: callers lowercase them.
#[async_trait]
pub trait MailGrantRepo: Send + Sync {
    /// The tenant's grants of `kind`, sorted; empty for an unknown tenant.
    async fn mail_grants(&self, tenant: &TenantId, kind: MailGrant) -> StoreResult<Vec<String>>;
    /// Replaces the tenant's grants of `kind` with `values` (duplicates collapse) in one
    /// transaction. [`crate::StoreError::UnknownTenant`] if the tenant does not exist.
    async fn set_mail_grants(
        &self,
        tenant: &TenantId,
        kind: MailGrant,
        values: &[String],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Adds `values` to the tenant's grants of `kind`, keeping the others (what an
    /// operator's import grants).
    async fn add_mail_grants(
        &self,
        tenant: &TenantId,
        kind: MailGrant,
        values: &[String],
        now: Timestamp,
    ) -> StoreResult<()>;
}

/// The append-only audit log.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Appends an event.
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditId>;
    /// This tenant's events, newest first, older than `before` when paging.
    async fn tenant_audit(
        &self,
        tenant: &TenantId,
        limit: u32,
        before: Option<AuditId>,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// Every event (platform admins), newest first.
    async fn all_audit(&self, limit: u32, before: Option<AuditId>) -> StoreResult<Vec<AuditEvent>>;
}

/// Console sessions, keyed by the SHA-256 of the cookie's token. The store keeps times; the
/// console decides what is expired (idle and absolute timeouts are its settings).
#[async_trait]
pub trait ConsoleSessionRepo: Send + Sync {
    /// Stores a new session (`last_seen_at` = `created_at`).
    async fn create_console_session(&self, new: NewConsoleSession) -> StoreResult<()>;
    /// The session stored under `id`, expired or not.
    async fn console_session(&self, id: &Sha256Digest) -> StoreResult<Option<ConsoleSession>>;
    /// Records activity (the idle timeout counts from `now`).
    async fn touch_console_session(&self, id: &Sha256Digest, now: Timestamp) -> StoreResult<()>;
    /// Ends one session (sign out, or found expired); `false` if it was not there.
    async fn end_console_session(&self, id: &Sha256Digest) -> StoreResult<bool>;
    /// Deletes sessions idle since before `idle_before` or past their absolute expiry at
    /// `now`. Returns how many.
    async fn purge_console_sessions(
        &self,
        idle_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64>;
}

/// Janrain reset codes Passgate has redeemed, so a code is bound to the tenant that first
/// redeemed it and its "spent" state is the same on every replica.
#[async_trait]
pub trait JanrainCodeRepo: Send + Sync {
    /// The code with this digest, whichever tenant redeemed it.
    async fn janrain_code(&self, digest: &Sha256Digest) -> StoreResult<Option<JanrainCode>>;
    /// Records a first redemption (state [`JanrainCodeState::Authorized`]) unless the code is
    /// already known. `false` when another caller recorded it first.
    async fn insert_janrain_code(&self, code: JanrainCode) -> StoreResult<bool>;
    /// Marks the code spent for `tenant` and forgets its access token. `false` when no row of
    /// this tenant was still usable.
    async fn spend_janrain_code(
        &self,
        tenant: &TenantId,
        digest: &Sha256Digest,
    ) -> StoreResult<bool>;
    /// Deletes codes whose access token expired before `before`. Returns how many.
    async fn purge_janrain_codes(&self, before: Timestamp) -> StoreResult<u64>;
}
