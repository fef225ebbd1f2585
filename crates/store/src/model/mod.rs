//! Domain types the repositories take and return. Nothing here names sea-orm or SQL, so the
//! engine and the admin API can depend on these without knowing where rows live.

mod admin;
mod console;
mod registry;
mod reset;

pub use admin::*;
pub use console::*;
pub use registry::*;
pub use reset::*;

use std::fmt;

use sha2::{Digest, Sha256};

/// A point in time; every repository takes "now" as an argument (time is an input).
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A SHA-256 digest: how the store keeps high-entropy secrets (reset tokens, codes, API keys)
/// and config texts. Stored as lowercase hex; `Debug` shows only a prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps a digest computed elsewhere.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 lowercase or uppercase hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({}…)", &self.to_hex()[..8])
    }
}

/// Data encrypted by the caller (AES-256-GCM in the engine): the store never sees plaintext.
/// `key_id` names the master key so keys can rotate without rewriting old rows.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedBlob {
    /// Ciphertext including the authentication tag.
    pub ciphertext: Vec<u8>,
    /// The nonce used for this ciphertext (unique per encryption).
    pub nonce: Vec<u8>,
    /// Which master key encrypted it.
    pub key_id: String,
}

impl fmt::Debug for EncryptedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedBlob")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Declares an `i64` row-id newtype.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// The database id of a reset token row (never shown to users; the token is).
    TokenId
);
row_id!(
    /// The database id of an outbox email.
    MailId
);
row_id!(
    /// The database id of a background reset job.
    JobId
);
row_id!(
    /// The database id of an API key (safe to show; the key itself is shown once).
    ApiKeyId
);
row_id!(
    /// The database id of an audit event; ids grow with time, so they page the log.
    AuditId
);
