//! Console sessions: a person's sign-in to `/console`, opened with an admin key.

use super::{ApiKeyId, Sha256Digest, Timestamp};

/// A session to store. The cookie's token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsoleSession {
    /// SHA-256 of the cookie's 256-bit random token: the row's key.
    pub id: Sha256Digest,
    /// The admin key the person signed in with: its role, scope and label are the
    /// session's, and revoking it ends the session.
    pub key_id: ApiKeyId,
    /// SHA-256 of the session's CSRF token (the page holds the token, the cookie cannot
    /// be read by script, so a cross-site request has neither).
    pub csrf_hash: Sha256Digest,
    /// When it was opened; also its first `last_seen_at`.
    pub created_at: Timestamp,
    /// The absolute expiry, however active the session is.
    pub expires_at: Timestamp,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// See [`NewConsoleSession`].
    pub id: Sha256Digest,
    /// See [`NewConsoleSession`].
    pub key_id: ApiKeyId,
    /// See [`NewConsoleSession`].
    pub csrf_hash: Sha256Digest,
    /// When it was opened.
    pub created_at: Timestamp,
    /// The last request it authenticated: the idle timeout counts from here.
    pub last_seen_at: Timestamp,
    /// The absolute expiry.
    pub expires_at: Timestamp,
}
