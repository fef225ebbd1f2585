//! The simulator's mutable world: users, issued tokens and codes, injected faults, the call
//! log and the mailbox. One mutex; every handler is a short synchronous function over it.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{SeedUser, SimConfig};
use crate::connection::KillSwitches;
use crate::oidc::{IdTokenFault, SigningKeys};

/// A user as the simulator stores it.
#[derive(Debug, Clone)]
pub(crate) struct SimUser {
    pub user_id: String,
    /// Janrain's numeric entity `id` (unique in the simulator; Auth0 users have one too, unused).
    pub entity_id: u64,
    pub email: String,
    pub connection: String,
    pub name: Option<String>,
    /// Auth0 `user_metadata` / `app_metadata` given at creation (omitted when unset).
    pub user_metadata: Option<serde_json::Value>,
    pub app_metadata: Option<serde_json::Value>,
    pub blocked: bool,
    pub email_verified: bool,
    /// SHA-256 hex of the current password (test infrastructure: never logged).
    pub password_sha256: Option<String>,
    /// Previous password hashes, newest last.
    pub history: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_password_reset: Option<DateTime<Utc>>,
    /// How many times the password was changed through the simulator.
    pub password_changes: u32,
    /// `DELETE …/sessions` calls accepted for this user.
    pub sessions_revoked: u32,
    /// `DELETE …/refresh-tokens` calls accepted for this user.
    pub refresh_tokens_revoked: u32,
}

/// What the control API reports about a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Provider user id.
    pub user_id: String,
    /// Email (lowercase).
    pub email: String,
    /// Connection name.
    pub connection: String,
    /// Display name.
    pub name: Option<String>,
    /// Blocked flag.
    pub blocked: bool,
    /// Email verified flag.
    pub email_verified: bool,
    /// Whether a password is set.
    pub password_set: bool,
    /// SHA-256 hex of the current password.
    pub password_sha256: Option<String>,
    /// Last change time.
    pub last_password_reset: Option<DateTime<Utc>>,
    /// Changes made through the simulator.
    pub password_changes: u32,
    /// Accepted "delete all sessions" calls.
    #[serde(default)]
    pub sessions_revoked: u32,
    /// Accepted "delete all refresh tokens" calls.
    #[serde(default)]
    pub refresh_tokens_revoked: u32,
}

/// One request the simulator received (control calls excluded). Secrets in the body are
/// replaced by `sha256:<hex>` so tests can check exact bytes without the log holding them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCall {
    /// Arrival order, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path as sent (still percent-encoded).
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// Request `Content-Type`.
    pub content_type: Option<String>,
    /// Whether an `Authorization` header was present (its value is not kept).
    pub authorized: bool,
    /// Parsed body parameters with secrets hashed.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// SHA-256 hex of the `password` / `newPassword` parameter, when there was one.
    pub password_sha256: Option<String>,
    /// Status answered (0 when the connection was dropped or is still in flight).
    pub status: u16,
    /// The fault applied, if any.
    pub fault: Option<String>,
}

/// An email the real provider would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Recipient.
    pub to: String,
    /// `auth0` or `janrain`.
    pub provider: String,
    /// `change_password` (Auth0) or `forgot_password` (Janrain).
    pub kind: String,
    /// The link in the email.
    pub link: String,
    /// Janrain: the one-time code carried by the link.
    pub code: Option<String>,
    /// When it was "sent" (simulator clock).
    pub sent_at: DateTime<Utc>,
}

/// A fault to inject into matching requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only paths starting with this (any when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// How many matching requests it affects (unlimited when absent).
    #[serde(default)]
    pub times: Option<u32>,
    /// What happens.
    pub kind: FaultKind,
}

/// The kinds of injected faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Wait this long, then handle normally.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer this status without handling (e.g. 500, 503).
    Status {
        /// HTTP status.
        status: u16,
    },
    /// Answer 429 with `x-ratelimit-*` headers (reset = now + `reset_in_secs`).
    RateLimit {
        /// Seconds until `x-ratelimit-reset`.
        reset_in_secs: u64,
        /// Also send `Retry-After`.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// Close the connection without an answer (nothing applied).
    Drop,
    /// Handle (and apply) normally, then wait this long before answering: a client with a
    /// shorter timeout sees a timeout although the change happened.
    ApplyThenDelay {
        /// Milliseconds.
        ms: u64,
    },
    /// Janrain: answer HTTP 200 `stat:error` with this code (510 concurrency limit, 480…).
    JanrainError {
        /// Janrain code.
        code: u32,
    },
}

/// A Management API token the simulator issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// A Janrain one-time code.
#[derive(Debug, Clone)]
pub(crate) struct ResetCode {
    pub email: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// A Janrain user access token.
#[derive(Debug, Clone)]
pub(crate) struct UserToken {
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// An Auth0 password-change ticket: one from `POST /api/v2/tickets/password-change`, or the
/// link in a change-password email. The hosted page (`/u/reset-password`) redeems it once.
#[derive(Debug, Clone)]
pub(crate) struct PasswordTicket {
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    /// Where the page redirects after success (`result_url`), if anywhere.
    pub result_url: Option<String>,
    /// New Universal Login: the ticket application's login route, shown after success.
    pub return_to_app: Option<String>,
    pub mark_email_as_verified: bool,
    /// `includeEmailInRedirect`: add `email=` to the redirect.
    pub include_email_in_redirect: bool,
}

/// An OIDC authorization code and what it was issued for.
#[derive(Debug, Clone)]
pub(crate) struct OidcCode {
    pub client_id: String,
    pub redirect_uri: String,
    /// The S256 `code_challenge` the verifier must hash to.
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub subject: String,
    pub auth_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// Everything mutable.
#[derive(Debug)]
pub(crate) struct World {
    pub users: Vec<SimUser>,
    pub tokens: HashMap<String, IssuedToken>,
    pub codes: HashMap<String, ResetCode>,
    pub user_tokens: HashMap<String, UserToken>,
    /// Auth0 password-change tickets, by ticket id.
    pub tickets: HashMap<String, PasswordTicket>,
    pub faults: Vec<Fault>,
    pub calls: Vec<RecordedCall>,
    pub mailbox: Vec<Mail>,
    /// OIDC authorization codes, by code.
    pub oidc_codes: HashMap<String, OidcCode>,
    /// The defect put into the ID tokens issued while set.
    pub oidc_fault: Option<IdTokenFault>,
    /// Added to the wall clock, so expiry can be tested without waiting.
    pub clock_offset: Duration,
    counter: u64,
    seed: u64,
}

/// Shared simulator state.
#[derive(Debug)]
pub struct SimState {
    pub(crate) config: SimConfig,
    /// `http://127.0.0.1:PORT`, known once bound.
    pub(crate) base_url: String,
    /// Lets the `drop` fault cut the connection a request came on.
    pub(crate) connections: Arc<KillSwitches>,
    /// The plan's rate limits.
    pub(crate) limits: crate::limits::Limits,
    /// The OIDC issuer's signing keys (only when the seed has an `oidc:` section).
    pub(crate) oidc_keys: Option<SigningKeys>,
    world: Mutex<World>,
}

/// SHA-256 hex of a string.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl SimState {
    pub(crate) fn new(
        config: SimConfig,
        base_url: String,
        connections: Arc<KillSwitches>,
        oidc_keys: Option<SigningKeys>,
    ) -> Self {
        let mut world = World {
            users: Vec::new(),
            tokens: HashMap::new(),
            codes: HashMap::new(),
            user_tokens: HashMap::new(),
            tickets: HashMap::new(),
            faults: Vec::new(),
            calls: Vec::new(),
            mailbox: Vec::new(),
            oidc_codes: HashMap::new(),
            oidc_fault: None,
            clock_offset: Duration::zero(),
            counter: 0,
            seed: RandomState::new().hash_one(0u8),
        };
        let now = wall_clock();
        for seed in &config.users {
            world.upsert_user(&config, seed, now);
        }
        Self {
            limits: crate::limits::Limits::new(&config.auth0),
            config,
            base_url,
            connections,
            oidc_keys,
            world: Mutex::new(world),
        }
    }

    /// Locks the world; a poisoned lock (a panicking test thread) is still usable.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The simulator clock: wall clock plus the advanced offset.
    pub fn now(&self) -> DateTime<Utc> {
        wall_clock() + self.world().clock_offset
    }
}

// The simulator's only wall-clock read; tests move time with the clock offset.
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}

impl World {
    /// The simulator clock (see [`SimState::now`]).
    pub fn now(&self) -> DateTime<Utc> {
        wall_clock() + self.clock_offset
    }

    /// An unguessable-enough id for tokens and codes (test infrastructure only).
    pub fn random_id(&mut self, chars: usize) -> String {
        self.counter += 1;
        let digest = Sha256::digest(format!("{}:{}:{}", self.seed, self.counter, wall_clock()));
        hex::encode(digest).chars().take(chars).collect()
    }

    /// Adds or replaces (by email and connection) a seeded user.
    pub fn upsert_user(&mut self, config: &SimConfig, seed: &SeedUser, now: DateTime<Utc>) {
        let connection = seed.connection.clone().unwrap_or_else(|| {
            config
                .auth0
                .connections
                .first()
                .map(|c| c.name.clone())
                .unwrap_or_default()
        });
        let email = seed.email.trim().to_lowercase();
        let user_id = match &seed.user_id {
            Some(id) => id.clone(),
            None if connection == config.janrain.connection => self.random_id(32),
            None => format!("auth0|{}", self.random_id(24)),
        };
        self.counter += 1;
        let user = SimUser {
            user_id,
            entity_id: self.counter,
            email: email.clone(),
            connection: connection.clone(),
            name: seed.name.clone(),
            user_metadata: None,
            app_metadata: None,
            blocked: seed.blocked,
            email_verified: seed.email_verified,
            password_sha256: seed.password.as_deref().map(sha256_hex),
            history: Vec::new(),
            created_at: now,
            updated_at: now,
            last_password_reset: None,
            password_changes: 0,
            sessions_revoked: 0,
            refresh_tokens_revoked: 0,
        };
        self.users
            .retain(|u| !(u.email == email && u.connection == connection));
        self.users.push(user);
    }

    /// Takes the first fault matching the request, counting it down.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let index = self.faults.iter().position(|f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path.as_deref().is_none_or(|p| path.starts_with(p))
                && f.times != Some(0)
        })?;
        let fault = &mut self.faults[index];
        let kind = fault.kind.clone();
        if let Some(times) = fault.times.as_mut() {
            *times -= 1;
            if *times == 0 {
                self.faults.remove(index);
            }
        }
        Some(kind)
    }

    /// Sets a user's password: history, timestamps, counters.
    pub fn set_password(&mut self, index: usize, password: &str, history_size: usize) {
        let now = self.now();
        let user = &mut self.users[index];
        if let Some(old) = user.password_sha256.take() {
            user.history.push(old);
            let excess = user.history.len().saturating_sub(history_size.max(1));
            user.history.drain(..excess);
        }
        user.password_sha256 = Some(sha256_hex(password));
        user.last_password_reset = Some(now);
        user.updated_at = now;
        user.password_changes += 1;
    }

    /// Whether `password` is the current or a remembered previous password.
    pub fn reuses_password(&self, index: usize, password: &str, history_size: usize) -> bool {
        if history_size == 0 {
            return false;
        }
        let hash = sha256_hex(password);
        let user = &self.users[index];
        user.password_sha256.as_deref() == Some(hash.as_str())
            || user
                .history
                .iter()
                .rev()
                .take(history_size)
                .any(|h| *h == hash)
    }
}

impl From<&SimUser> for UserView {
    fn from(u: &SimUser) -> Self {
        Self {
            user_id: u.user_id.clone(),
            email: u.email.clone(),
            connection: u.connection.clone(),
            name: u.name.clone(),
            blocked: u.blocked,
            email_verified: u.email_verified,
            password_set: u.password_sha256.is_some(),
            password_sha256: u.password_sha256.clone(),
            last_password_reset: u.last_password_reset,
            password_changes: u.password_changes,
            sessions_revoked: u.sessions_revoked,
            refresh_tokens_revoked: u.refresh_tokens_revoked,
        }
    }
}
