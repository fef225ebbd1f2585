//! The issuer's signing keys and compact JWS: an RS256 key embedded in the crate (ring
//! cannot generate RSA keys) and an ES256 key generated at start, both in the JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The simulator's published RS256 test key (PKCS#8 DER). It is in the source on purpose:
/// anyone can sign tokens with it, so it is never a secret and never a production key.
const SIM_RSA_KEY: &[u8] = include_bytes!("sim_rsa_key.pk8");

/// The RS256 key's id.
const RSA_KID: &str = "sim-rs256-1";

/// Both signing keys, and the randomness used for signatures, codes and tokens.
pub(crate) struct SigningKeys {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
    ec_kid: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("rsa_kid", &RSA_KID)
            .field("ec_kid", &self.ec_kid)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Loads the RS256 key and generates a fresh ES256 one.
    pub(crate) fn new() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let rsa = RsaKeyPair::from_pkcs8(SIM_RSA_KEY).map_err(|e| format!("RS256 key: {e}"))?;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "ES256 key generation failed".to_owned())?;
        let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| format!("ES256 key: {e}"))?;
        let digest = hex::encode(Sha256::digest(ec.public_key().as_ref()));
        let ec_kid = format!("sim-es256-{}", &digest[..8]);
        Ok(Self {
            rsa,
            ec,
            ec_kid,
            rng,
        })
    }

    /// `count` random bytes, base64url without padding; `None` if the system RNG fails.
    pub(crate) fn random_token(&self, count: usize) -> Option<String> {
        let mut bytes = vec![0u8; count];
        self.rng.fill(&mut bytes).ok()?;
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The key id for `alg` (`RS256` or `ES256`).
    pub(crate) fn kid(&self, alg: &str) -> &str {
        if alg == "ES256" {
            &self.ec_kid
        } else {
            RSA_KID
        }
    }

    /// The signature of `message` with the key for `alg` (RS256 PKCS#1 v1.5, or ES256 in
    /// the fixed `r || s` form JWS requires).
    pub(crate) fn sign(&self, alg: &str, message: &[u8]) -> Option<Vec<u8>> {
        if alg == "ES256" {
            let signature = self.ec.sign(&self.rng, message).ok()?;
            return Some(signature.as_ref().to_vec());
        }
        let mut signature = vec![0u8; self.rsa.public().modulus_len()];
        self.rsa
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .ok()?;
        Some(signature)
    }

    /// The JWKS document: both public keys, base64url without padding.
    pub(crate) fn jwks(&self) -> Value {
        let rsa = RsaPublicKeyComponents::<Vec<u8>>::from(self.rsa.public());
        let point = self.ec.public_key().as_ref();
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        json!({ "keys": [
            {
                "kty": "RSA", "kid": RSA_KID, "use": "sig", "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(without_leading_zeros(&rsa.n)),
                "e": URL_SAFE_NO_PAD.encode(without_leading_zeros(&rsa.e)),
            },
            {
                "kty": "EC", "crv": "P-256", "kid": self.ec_kid, "use": "sig", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(x),
                "y": URL_SAFE_NO_PAD.encode(y),
            },
        ]})
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// base64url without padding, as JWS uses.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
