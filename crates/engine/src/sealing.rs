//! AES-256-GCM envelopes for data at rest: mail bodies in the outbox and provider client
//! secrets.
//!
//! Each [`Sealed`] value records the id of the key that sealed it, so keys rotate without a
//! flag day: new data is sealed under the active key, old data opens under the key it names,
//! and a re-seal job can move it forward. The associated data binds a ciphertext to its row
//! (e.g. `outbox:<tenant>:<message id>`), so a ciphertext copied to another row fails to open.

use std::{collections::BTreeMap, fmt};

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use rand::{TryRng, rngs::SysRng};

/// Why sealing or opening failed. Messages never include key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    /// The keyring specification could not be parsed.
    #[error("invalid master key list: {0}")]
    InvalidKeyring(String),
    /// The value names a key this keyring does not hold.
    #[error("no master key with id {0:?} is configured")]
    UnknownKey(String),
    /// The ciphertext or its associated data was altered, or the key is wrong.
    #[error("sealed value failed authentication")]
    Tampered,
    /// The OS random source failed.
    #[error("the operating system's random number generator failed")]
    Random,
}

/// Names a master key, e.g. `2026-11`. Stored beside every sealed value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as read back from storage beside a sealed value; an id the keyring does not
    /// hold fails at [`Keyring::open`].
    pub fn from_stored(id: &str) -> Self {
        Self(id.to_owned())
    }
}

/// A sealed value: key id, 96-bit random nonce, ciphertext with its 128-bit tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The key that sealed it.
    pub key_id: KeyId,
    /// The GCM nonce (random per value; never reused under one key in practice).
    pub nonce: [u8; 12],
    /// Ciphertext followed by the authentication tag.
    pub ciphertext: Vec<u8>,
}

/// The master keys: one active for sealing, older ones kept for opening.
#[derive(Clone)]
pub struct Keyring {
    active: KeyId,
    keys: BTreeMap<KeyId, [u8; 32]>,
}

impl Keyring {
    /// Parses `id:base64key[,id:base64key…]` (as in `PASSGATE_MASTER_KEYS`); the first entry
    /// is the active key. Each key must decode to exactly 32 bytes.
    pub fn parse(spec: &str) -> Result<Self, SealingError> {
        let mut keys = BTreeMap::new();
        let mut active = None;
        for (index, entry) in spec.split(',').map(str::trim).enumerate() {
            let (id, encoded) = entry.split_once(':').ok_or_else(|| {
                SealingError::InvalidKeyring(format!("entry {} is not `id:base64key`", index + 1))
            })?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(SealingError::InvalidKeyring(format!(
                    "entry {}: key id must be non-empty ASCII letters, digits, '-', '_' or '.'",
                    index + 1
                )));
            }
            let bytes = STANDARD.decode(encoded.trim()).map_err(|_| {
                SealingError::InvalidKeyring(format!("key {id:?} is not valid base64"))
            })?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                SealingError::InvalidKeyring(format!("key {id:?} must be 32 bytes (AES-256)"))
            })?;
            let id = KeyId(id.to_owned());
            if keys.insert(id.clone(), key).is_some() {
                return Err(SealingError::InvalidKeyring(format!(
                    "key id {:?} appears twice",
                    id.0
                )));
            }
            active.get_or_insert(id);
        }
        let active = active.ok_or_else(|| SealingError::InvalidKeyring("no keys".into()))?;
        Ok(Self { active, keys })
    }

    /// A keyring with one fresh random key; for the demo and tests only.
    pub fn generate(id: &str) -> Result<Self, SealingError> {
        let mut key = [0u8; 32];
        SysRng
            .try_fill_bytes(&mut key)
            .map_err(|_| SealingError::Random)?;
        Self::parse(&format!("{id}:{}", STANDARD.encode(key)))
    }

    /// The id new values are sealed under.
    pub fn active_key_id(&self) -> &KeyId {
        &self.active
    }

    /// A 256-bit subkey for `purpose`, derived from the active key (HKDF-like, one HMAC
    /// block), so the token-hash key and the sealing key are never the same bytes.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut block = [0u8; 64];
        if let Some(key) = self.keys.get(&self.active) {
            block[..32].copy_from_slice(key);
        }
        let mut mac = <Hmac<sha2::Sha256> as hmac::KeyInit>::new(&block.into());
        mac.update(b"passgate/derive/v1/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Seals `plaintext` under the active key, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, SealingError> {
        let key = self
            .keys
            .get(&self.active)
            .ok_or_else(|| SealingError::UnknownKey(self.active.0.clone()))?;
        let mut nonce = [0u8; 12];
        SysRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SealingError::Random)?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealingError::Tampered)?;
        Ok(Sealed {
            key_id: self.active.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed value; fails if it was altered, moved to another `context`, or names
    /// an unknown key.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, SealingError> {
        let key = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| SealingError::UnknownKey(sealed.key_id.0.clone()))?;
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
        cipher
            .decrypt(
                &Nonce::from(sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealingError::Tampered)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    #[test]
    fn round_trip_and_binding_to_context() {
        let ring = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let sealed = ring.seal(b"hello", "outbox:acme:1").unwrap();
        assert_ne!(sealed.ciphertext, b"hello");
        assert_eq!(ring.open(&sealed, "outbox:acme:1").unwrap(), b"hello");
        assert_eq!(
            ring.open(&sealed, "outbox:acme:2"),
            Err(SealingError::Tampered),
            "a ciphertext moved to another row does not open"
        );
        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        assert_eq!(
            ring.open(&flipped, "outbox:acme:1"),
            Err(SealingError::Tampered)
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let sealed_old = old.seal(b"secret", "x").unwrap();
        let rotated = Keyring::parse(&format!("k2:{},k1:{}", key(2), key(1))).unwrap();
        assert_eq!(rotated.active_key_id().as_str(), "k2");
        assert_eq!(rotated.open(&sealed_old, "x").unwrap(), b"secret");
        assert_eq!(rotated.seal(b"new", "x").unwrap().key_id.as_str(), "k2");
        let dropped = Keyring::parse(&format!("k2:{}", key(2))).unwrap();
        assert_eq!(
            dropped.open(&sealed_old, "x"),
            Err(SealingError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn bad_key_lists_say_what_is_wrong() {
        let err = |spec: &str| Keyring::parse(spec).unwrap_err().to_string();
        assert!(err("").contains("not `id:base64key`"));
        assert!(err("k1:???").contains("not valid base64"));
        assert!(err(&format!("k1:{}", STANDARD.encode([0u8; 16]))).contains("32 bytes"));
        assert!(err(&format!("k1:{0},k1:{0}", key(1))).contains("appears twice"));
        assert!(err(&format!("bad id:{}", key(1))).contains("key id"));
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let ring = Keyring::parse(&format!("k1:{}", key(9))).unwrap();
        let printed = format!("{ring:?}");
        assert!(!printed.contains(&key(9)));
        assert!(printed.contains("k1"));
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let ring = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        assert_ne!(ring.derive("token-hash"), ring.derive("csrf"));
        assert_eq!(ring.derive("csrf"), ring.derive("csrf"));
    }
}
