//! Email addresses at rest (security.md items 53 and 55): no table holds one in clear.
//!
//! - A token row (link, code-mode flow and code rows) keeps the provider's address sealed
//!   with the keyring (AES-256-GCM), bound to its tenant and token digest, because
//!   completion needs it again (the account re-check and the password rule's context).
//! - An outbox row keeps a keyed digest of its recipient; the address itself travels only
//!   inside the sealed mail body.
//! - Job payloads seal the submitted address ([`crate::jobs`]); audit rows and rate-limit
//!   buckets carry provider user ids and keyed digests only ([`crate::audit`]).
//! - [`seal_blob`] / [`open_blob`]: the store's [`EncryptedBlob`] form of any sealed value
//!   (provider secrets, outbox bodies, Janrain access tokens).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use passgate_store::{EncryptedBlob, ResetToken, Sha256Digest};
use passgate_tenant::TenantId;

use crate::{
    error::EngineError,
    sealing::{KeyId, Keyring, Sealed},
    secret_token::TokenHasher,
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
    keyring: &Keyring,
    tenant: &TenantId,
    hash: &Sha256Digest,
    email: &str,
) -> Result<String, EngineError> {
    let sealed = keyring.seal(email.as_bytes(), &token_context(tenant, hash))?;
    Ok(format!(
        "{VERSION}:{}:{}:{}",
        sealed.key_id.as_str(),
        STANDARD.encode(sealed.nonce),
        STANDARD.encode(sealed.ciphertext)
    ))
}

/// The address sealed in `row.email` (rows from before the upgrade hold none and fail).
pub(crate) fn open_token_email(keyring: &Keyring, row: &ResetToken) -> Result<String, EngineError> {
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
    let plain = keyring.open(&sealed, &token_context(&row.tenant_id, &row.hash))?;
    String::from_utf8(plain).map_err(|_| corrupt("not UTF-8"))
}

/// What an outbox row stores as its recipient: a keyed digest of the lowercased address.
pub(crate) fn recipient_digest(hasher: &TokenHasher, address: &str) -> String {
    format!(
        "hmac:{}",
        hasher.recipient(&address.to_ascii_lowercase()).to_hex()
    )
}

/// Seals `plain` under `context` into the store's blob form.
pub(crate) fn seal_blob(
    keyring: &Keyring,
    plain: &[u8],
    context: &str,
) -> Result<EncryptedBlob, EngineError> {
    let sealed = keyring.seal(plain, context)?;
    Ok(EncryptedBlob {
        ciphertext: sealed.ciphertext,
        nonce: sealed.nonce.to_vec(),
        key_id: sealed.key_id.as_str().to_owned(),
    })
}

/// Opens a blob sealed by [`seal_blob`] under the same `context`.
pub(crate) fn open_blob(
    keyring: &Keyring,
    blob: &EncryptedBlob,
    context: &str,
) -> Result<Vec<u8>, EngineError> {
    let nonce: [u8; 12] = blob
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| EngineError::Corrupt {
            what: "sealed value",
            reason: "nonce is not 12 bytes".into(),
        })?;
    let sealed = Sealed {
        key_id: KeyId::from_stored(&blob.key_id),
        nonce,
        ciphertext: blob.ciphertext.clone(),
    };
    Ok(keyring.open(&sealed, context)?)
}
