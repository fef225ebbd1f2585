//! Email addresses at rest (security.md items 53 and 55): no table holds one in clear.
//!
//! - A token row (link, code-mode flow and code rows) keeps the provider's address sealed
//!   with the keyring (AES-256-GCM), bound to its tenant and token digest, because
//!   completion needs it again (the account re-check and the password rule's context).
//! - An outbox row keeps a keyed digest of its recipient; the address itself travels only
//!   inside the sealed mail body.
//! - Job payloads seal the submitted address ([`crate::jobs`]); audit rows and rate-limit
//!   buckets carry provider user ids and keyed digests only ([`crate::audit`]).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use passgate_store::{ResetToken, Sha256Digest};
use passgate_tenant::TenantId;

use crate::{
    engine::Inner,
    error::EngineError,
    sealing::{KeyId, Sealed},
};

/// Prefix of the stored form, so a later format can sit beside this one.
const VERSION: &str = "v1";

/// The associated data of a token row's email: a sealed address copied to another row (or
/// tenant) fails to open.
fn token_context(tenant: &TenantId, hash: &Sha256Digest) -> String {
    format!("token-email:{}:{}", tenant.as_str(), hash.to_hex())
}

fn corrupt(reason: &str) -> EngineError {
    EngineError::Corrupt {
        what: "token email",
        reason: reason.into(),
    }
}

/// The stored form of `email` for the token row `(tenant, hash)`:
/// `v1:<key id>:<nonce>:<ciphertext>` (base64).
pub(crate) fn seal_token_email(
    inner: &Inner,
    tenant: &TenantId,
    hash: &Sha256Digest,
    email: &str,
) -> Result<String, EngineError> {
    let sealed = inner
        .keyring
        .seal(email.as_bytes(), &token_context(tenant, hash))?;
    Ok(format!(
        "{VERSION}:{}:{}:{}",
        sealed.key_id.as_str(),
        STANDARD.encode(sealed.nonce),
        STANDARD.encode(sealed.ciphertext)
    ))
}

/// The address sealed in `row.email` (rows from before the upgrade hold none and fail).
pub(crate) fn open_token_email(inner: &Inner, row: &ResetToken) -> Result<String, EngineError> {
    let mut parts = row.email.splitn(4, ':');
    let (Some(VERSION), Some(key_id), Some(nonce), Some(ciphertext)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(corrupt("not sealed"));
    };
    let nonce: [u8; 12] = STANDARD
        .decode(nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| corrupt("nonce"))?;
    let sealed = Sealed {
        key_id: KeyId::from_stored(key_id),
        nonce,
        ciphertext: STANDARD
            .decode(ciphertext)
            .map_err(|_| corrupt("ciphertext"))?,
    };
    let plain = inner
        .keyring
        .open(&sealed, &token_context(&row.tenant_id, &row.hash))?;
    String::from_utf8(plain).map_err(|_| corrupt("not UTF-8"))
}

/// What an outbox row stores as its recipient: a keyed digest of the lowercased address.
pub(crate) fn recipient_digest(inner: &Inner, address: &str) -> String {
    format!(
        "hmac:{}",
        inner
            .hasher
            .recipient(&address.to_ascii_lowercase())
            .to_hex()
    )
}
