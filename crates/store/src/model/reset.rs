//! Rows the reset engine writes: tokens, outbox mail, background jobs, rate-limit windows and
//! password history.

use chrono::TimeDelta;
use passgate_tenant::{ClientId, TenantId};

use super::{EncryptedBlob, JobId, MailId, NewAuditEvent, Sha256Digest, Timestamp, TokenId};

/// How the user proves they received the reset message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// A 256-bit token in a link.
    Link,
    /// A short code typed into the app or page (attempt-limited).
    Code,
}

impl TokenPurpose {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Code => "code",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "link" => Some(Self::Link),
            "code" => Some(Self::Code),
            _ => None,
        }
    }
}

/// A reset token to store. Only the hash of the token is kept; the snapshots (email,
/// `last_password_reset`) let redemption refuse a reset when the account changed since issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResetToken {
    /// SHA-256 of the token or code (never the raw value).
    pub hash: Sha256Digest,
    /// The tenant it was issued for.
    pub tenant_id: TenantId,
    /// The app it was issued for.
    pub client_id: ClientId,
    /// The provider's user id.
    pub user_id: String,
    /// The provider connection the user lives in.
    pub connection: Option<String>,
    /// The email at issue time, sealed by the engine (never in clear at rest, item 53).
    pub email: String,
    /// The provider's `last_password_reset` at issue time, verbatim.
    pub last_password_reset: Option<String>,
    /// Link or code.
    pub purpose: TokenPurpose,
    /// The locale the user asked in, for the page and emails that follow.
    pub locale: String,
    /// Where to send the user afterwards (already checked against the tenant's list).
    pub redirect_uri: Option<String>,
    /// Issue time.
    pub created_at: Timestamp,
    /// After this the token is dead.
    pub expires_at: Timestamp,
}

/// A stored reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    /// Row id.
    pub id: TokenId,
    /// SHA-256 of the token.
    pub hash: Sha256Digest,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The app it was issued for.
    pub client_id: ClientId,
    /// The provider's user id.
    pub user_id: String,
    /// Provider connection.
    pub connection: Option<String>,
    /// Email snapshot, as stored: sealed by the engine, which opens it on load.
    pub email: String,
    /// `last_password_reset` snapshot.
    pub last_password_reset: Option<String>,
    /// Link or code.
    pub purpose: TokenPurpose,
    /// Locale at issue.
    pub locale: String,
    /// Redirect after success.
    pub redirect_uri: Option<String>,
    /// Issue time.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// When it was used (at most once).
    pub consumed_at: Option<Timestamp>,
    /// Refused attempts so far: wrong codes, and refused passwords (`redeem_max_refusals`).
    pub attempts: u32,
    /// When it was killed without use (a newer request, too many attempts).
    pub invalidated_at: Option<Timestamp>,
}

/// Why a token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// No such token for this tenant.
    #[error("unknown token")]
    Unknown,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Already used.
    #[error("token already used")]
    AlreadyConsumed,
    /// Superseded by a newer request or killed after too many attempts.
    #[error("token invalidated")]
    Invalidated,
}

/// Where an outbox email is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker (lease in `locked_until`).
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Gave up after too many attempts.
    Dead,
}

impl MailStatus {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "sending" => Some(Self::Sending),
            "sent" => Some(Self::Sent),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// An email to queue. The body (MIME message) is encrypted by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Whose mail.
    pub tenant_id: TenantId,
    /// Stable `Message-ID`, unique: re-sending after a crash keeps it, so duplicates can be
    /// recognised.
    pub message_id: String,
    /// Names the envelope recipient without holding it: the engine stores a keyed digest
    /// (the address is inside the sealed body).
    pub recipient: String,
    /// The encrypted message.
    pub body: EncryptedBlob,
    /// Queue time (also the first attempt time).
    pub created_at: Timestamp,
}

/// A queued email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    /// Row id.
    pub id: MailId,
    /// Whose mail.
    pub tenant_id: TenantId,
    /// Stable `Message-ID`.
    pub message_id: String,
    /// Names the envelope recipient without holding it: the engine stores a keyed digest
    /// (the address is inside the sealed body).
    pub recipient: String,
    /// The encrypted message.
    pub body: EncryptedBlob,
    /// Where it is.
    pub status: MailStatus,
    /// Attempts started so far (a claim counts as an attempt).
    pub attempts: u32,
    /// Earliest next attempt.
    pub next_attempt_at: Timestamp,
    /// The last failure, for operators.
    pub last_error: Option<String>,
    /// Queue time.
    pub created_at: Timestamp,
    /// When the SMTP server accepted it.
    pub sent_at: Option<Timestamp>,
}

/// Where a background job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting for `run_after`.
    Pending,
    /// Claimed by a worker (lease in `locked_until`).
    Running,
    /// Finished.
    Done,
    /// Gave up.
    Failed,
}

impl JobStatus {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A background job to queue: the part of a reset request that happens after the answer
/// (provider lookup, token, email), durable across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Whose job.
    pub tenant_id: TenantId,
    /// The app the request came from.
    pub client_id: ClientId,
    /// What to do, e.g. `reset-request`.
    pub kind: String,
    /// Job input, serialised by the engine (stored as text; see docs/storage.md).
    pub payload: String,
    /// Earliest run time.
    pub run_after: Timestamp,
    /// Queue time.
    pub created_at: Timestamp,
}

/// A queued job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Row id.
    pub id: JobId,
    /// Whose job.
    pub tenant_id: TenantId,
    /// Originating app.
    pub client_id: ClientId,
    /// What to do.
    pub kind: String,
    /// Input.
    pub payload: String,
    /// Where it is.
    pub status: JobStatus,
    /// Claims so far.
    pub attempts: u32,
    /// Earliest (next) run time.
    pub run_after: Timestamp,
    /// Lease end while running.
    pub locked_until: Option<Timestamp>,
    /// Last failure.
    pub last_error: Option<String>,
    /// Queue time.
    pub created_at: Timestamp,
}

/// A rate-limit counter: global or per tenant, with a key the engine composes
/// (e.g. `ip:203.0.113.9`, `account:<hash>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateBucket {
    /// The tenant the bucket belongs to; `None` for platform-wide buckets such as per-IP.
    pub tenant_id: Option<TenantId>,
    /// The bucket's key within that scope.
    pub key: String,
}

/// One hit to count: the bucket, its window and its limit.
#[derive(Debug, Clone)]
pub struct BucketHit {
    /// Which bucket.
    pub bucket: RateBucket,
    /// Its fixed window.
    pub window: TimeDelta,
    /// Hits allowed per window.
    pub limit: u32,
}

/// A reset request to admit: the buckets it counts against and the job for each outcome
/// ([`crate::RateLimitRepo::admit`]).
#[derive(Debug, Clone)]
pub struct Admission {
    /// Counted always, whatever the others say (client and account).
    pub always: Vec<BucketHit>,
    /// Counted only when none of `always` is over (the shared tenant bucket).
    pub then: Vec<BucketHit>,
    /// The job when no bucket is over.
    pub admitted: NewJob,
    /// The job when a bucket is over, one per bucket (`always` then `then`).
    pub refused: Vec<NewJob>,
}

/// What an admission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// The first bucket over its limit (its index in `always` then `then`) and when its
    /// window ends; `None` when admitted.
    pub over: Option<(usize, Timestamp)>,
    /// The queued job.
    pub job: JobId,
}

/// The answer of a rate-limit hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether this hit is within the limit.
    pub allowed: bool,
    /// Hits in the current window, this one included.
    pub count: u64,
    /// When the current window ends (for `Retry-After`).
    pub resets_at: Timestamp,
}

/// A remembered password hash (argon2 PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The PHC string.
    pub hash: String,
    /// When the password was set.
    pub created_at: Timestamp,
}

/// Where a Janrain reset code is, shared by every replica through the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JanrainCodeState {
    /// Exchanged for a user access token, kept sealed so a corrected password (on any
    /// replica) can reuse it until it expires.
    Authorized {
        /// The sealed access token.
        authorization: EncryptedBlob,
        /// When the access token dies.
        expires_at: Timestamp,
    },
    /// A password was (or may have been) set with it; it never works again.
    Spent,
}

/// A Janrain code Passgate has redeemed: a keyed digest of the code (never the code), the
/// tenant it was redeemed for, and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JanrainCode {
    /// Keyed digest of the code.
    pub digest: Sha256Digest,
    /// The tenant that redeemed it; any other tenant is refused.
    pub tenant_id: TenantId,
    /// Authorized or spent.
    pub state: JanrainCodeState,
    /// First redemption.
    pub created_at: Timestamp,
}

/// A new request's supersession of a user's earlier unused rows for an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersession {
    /// Whose rows.
    pub tenant_id: TenantId,
    /// The app they were issued for.
    pub client_id: ClientId,
    /// The provider's user id (or an unbound flow's owner).
    pub user_id: String,
}

/// What one reset job writes when it finishes, committed in one transaction with its "done"
/// mark: a job's tokens, mails and audit events exist exactly when the job is done, and a job
/// that is tried again has written nothing. Of several jobs committed together, each job's
/// supersessions and then its tokens are applied in queue (job id) order, so they read as if
/// committed one after another.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobWrites {
    /// Earlier rows to invalidate (before the new tokens are inserted).
    pub supersede: Vec<Supersession>,
    /// New token, flow and code rows.
    pub tokens: Vec<NewResetToken>,
    /// Mails to queue.
    pub mails: Vec<NewMail>,
    /// Audit events.
    pub audit: Vec<NewAuditEvent>,
}

/// A job that ran to its end, and what it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedJob {
    /// The claimed job.
    pub id: JobId,
    /// Its writes.
    pub writes: JobWrites,
}
