//! The ID token check (OpenID Connect Core §3.1.3.7): a compact JWS signed with RS256 or
//! ES256 by a key of the issuer's JWKS (never `none`, never an HMAC: a public client's
//! "secret" would sign it), then issuer, audience, authorized party, expiry, issue time and
//! nonce, with a minute of clock leeway.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::OidcError;

/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;

/// One key of a JWKS (RFC 7517), as published.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// A JWKS document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    fn kty(self) -> &'static str {
        match self {
            Self::Rs256 => "RSA",
            Self::Es256 => "EC",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug)]
pub(crate) struct Parsed {
    alg: Alg,
    kid: Option<String>,
    signed: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

fn b64(part: &str, what: &'static str) -> Result<Vec<u8>, OidcError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::InvalidIdToken(what))
}

/// Splits and decodes `token`; refuses any algorithm but RS256 and ES256.
pub(crate) fn parse(token: &str) -> Result<Parsed, OidcError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::InvalidIdToken("not a compact JWS"));
    };
    let header: Header = serde_json::from_slice(&b64(header, "header is not base64url")?)
        .map_err(|_| OidcError::InvalidIdToken("header is not JSON"))?;
    let alg = match header.alg.as_str() {
        "RS256" => Alg::Rs256,
        "ES256" => Alg::Es256,
        _ => return Err(OidcError::InvalidIdToken("unsupported signature algorithm")),
    };
    let claims: Map<String, Value> =
        serde_json::from_slice(&b64(payload, "payload is not base64url")?)
            .map_err(|_| OidcError::InvalidIdToken("payload is not a JSON object"))?;
    let signed_len = token.len() - signature.len() - 1;
    Ok(Parsed {
        alg,
        kid: header.kid,
        signed: token[..signed_len].to_owned(),
        signature: b64(signature, "signature is not base64url")?,
        claims,
    })
}

impl Parsed {
    /// The key of `keys` this token names: by `kid`, or the only key of its type.
    pub(crate) fn key<'k>(&self, keys: &'k [Jwk]) -> Option<&'k Jwk> {
        let usable = |k: &&Jwk| {
            k.kty == self.alg.kty()
                && k.alg.as_deref().is_none_or(|a| a == self.alg.name())
                && k.usage.as_deref().is_none_or(|u| u == "sig")
        };
        match &self.kid {
            Some(kid) => keys
                .iter()
                .filter(usable)
                .find(|k| k.kid.as_deref() == Some(kid)),
            None => {
                let mut candidates = keys.iter().filter(usable);
                let first = candidates.next();
                if candidates.next().is_some() {
                    None
                } else {
                    first
                }
            }
        }
    }

    /// Checks the signature with `key`.
    pub(crate) fn verify_signature(&self, key: &Jwk) -> Result<(), OidcError> {
        let bad_key = || OidcError::InvalidIdToken("the issuer's key is malformed");
        let bad_signature = || OidcError::InvalidIdToken("signature does not verify");
        let message = self.signed.as_bytes();
        match self.alg {
            Alg::Rs256 => {
                let n = b64(key.n.as_deref().ok_or_else(bad_key)?, "key n")?;
                let e = b64(key.e.as_deref().ok_or_else(bad_key)?, "key e")?;
                RsaPublicKeyComponents { n: &n, e: &e }
                    .verify(
                        &signature::RSA_PKCS1_2048_8192_SHA256,
                        message,
                        &self.signature,
                    )
                    .map_err(|_| bad_signature())
            }
            Alg::Es256 => {
                if key.crv.as_deref() != Some("P-256") {
                    return Err(bad_key());
                }
                let x = b64(key.x.as_deref().ok_or_else(bad_key)?, "key x")?;
                let y = b64(key.y.as_deref().ok_or_else(bad_key)?, "key y")?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad_key());
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, &self.signature)
                    .map_err(|_| bad_signature())
            }
        }
    }

    /// Checks the claims; returns them. Call only after [`Parsed::verify_signature`].
    pub(crate) fn check_claims(
        self,
        expect: &Expected<'_>,
        now: DateTime<Utc>,
    ) -> Result<Map<String, Value>, OidcError> {
        let claims = self.claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("iss") != Some(expect.issuer) {
            return Err(OidcError::InvalidIdToken(
                "issuer is not the configured one",
            ));
        }
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&expect.client_id) {
            return Err(OidcError::InvalidIdToken("audience is not this client"));
        }
        // Several audiences: the token must say it was issued to us (strict reading of
        // Core §3.1.3.7 items 4 and 5).
        let azp = text("azp");
        if (audiences.len() > 1 && azp.is_none()) || azp.is_some_and(|a| a != expect.client_id) {
            return Err(OidcError::InvalidIdToken(
                "authorized party is not this client",
            ));
        }
        let now = now.timestamp();
        let exp = claims.get("exp").and_then(Value::as_i64);
        if exp.is_none_or(|exp| now >= exp.saturating_add(LEEWAY_SECS)) {
            return Err(OidcError::InvalidIdToken("expired"));
        }
        let iat = claims.get("iat").and_then(Value::as_i64);
        if iat.is_none_or(|iat| iat > now.saturating_add(LEEWAY_SECS)) {
            return Err(OidcError::InvalidIdToken("issued in the future"));
        }
        if text("nonce") != Some(expect.nonce) {
            return Err(OidcError::InvalidIdToken(
                "nonce is not this sign-in's (a replayed token?)",
            ));
        }
        if text("sub").is_none_or(|s| s.is_empty() || s.len() > 255) {
            return Err(OidcError::InvalidIdToken("no usable subject"));
        }
        Ok(claims)
    }
}

/// What a valid ID token of this sign-in says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    fn signer() -> (EcdsaKeyPair, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some("k1".into()),
            alg: Some("ES256".into()),
            usage: Some("sig".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
            y: Some(URL_SAFE_NO_PAD.encode(&point[33..])),
        };
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: Value, claims: Value) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// "Now" for every case (time is an input).
    const NOW: i64 = 1_800_000_000;

    const EXPECT: Expected<'static> = Expected {
        issuer: "https://id.example.com",
        client_id: "console",
        nonce: "n-1",
    };

    fn claims(now: i64) -> Value {
        json!({"iss": "https://id.example.com", "aud": "console", "sub": "u1",
               "exp": now + 300, "iat": now, "nonce": "n-1"})
    }

    fn check(token: &str, keys: &[Jwk]) -> Result<Map<String, Value>, OidcError> {
        let parsed = parse(token)?;
        let key = parsed
            .key(keys)
            .ok_or(OidcError::InvalidIdToken("no key"))?;
        parsed.verify_signature(key)?;
        parsed.check_claims(&EXPECT, DateTime::from_timestamp(NOW, 0).unwrap())
    }

    #[test]
    fn a_good_token_passes_and_each_wrong_claim_is_refused() {
        let (pair, jwk) = signer();
        let keys = [jwk];
        let now = NOW;
        let header = json!({"alg": "ES256", "kid": "k1"});
        let good = sign(&pair, header.clone(), claims(now));
        assert_eq!(check(&good, &keys).unwrap()["sub"], "u1");

        let wrong = |field: &str, value: Value| {
            let mut c = claims(now);
            c[field] = value;
            check(&sign(&pair, header.clone(), c), &keys).unwrap_err()
        };
        assert_eq!(
            wrong("iss", json!("https://id.example.com/")),
            OidcError::InvalidIdToken("issuer is not the configured one")
        );
        assert_eq!(
            wrong("aud", json!("other")),
            OidcError::InvalidIdToken("audience is not this client")
        );
        assert_eq!(
            wrong("aud", json!(["console", "other"])),
            OidcError::InvalidIdToken("authorized party is not this client")
        );
        assert_eq!(
            wrong("exp", json!(now - 61)),
            OidcError::InvalidIdToken("expired")
        );
        assert_eq!(
            wrong("iat", json!(now + 3600)),
            OidcError::InvalidIdToken("issued in the future")
        );
        assert_eq!(
            wrong("nonce", json!("n-2")),
            OidcError::InvalidIdToken("nonce is not this sign-in's (a replayed token?)")
        );
        assert_eq!(
            wrong("sub", json!("")),
            OidcError::InvalidIdToken("no usable subject")
        );
    }

    #[test]
    fn tampered_unsigned_and_hmac_tokens_are_refused() {
        let (pair, jwk) = signer();
        let keys = [jwk];
        let now = NOW;
        let good = sign(&pair, json!({"alg": "ES256", "kid": "k1"}), claims(now));
        // Another subject in the payload, the signature kept.
        let parts: Vec<&str> = good.split('.').collect();
        let mut other = claims(now);
        other["sub"] = json!("admin");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(other.to_string()),
            parts[2]
        );
        assert_eq!(
            check(&forged, &keys).unwrap_err(),
            OidcError::InvalidIdToken("signature does not verify")
        );
        for alg in ["none", "HS256"] {
            let token = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string()),
                URL_SAFE_NO_PAD.encode(claims(now).to_string())
            );
            assert_eq!(
                check(&token, &keys).unwrap_err(),
                OidcError::InvalidIdToken("unsupported signature algorithm")
            );
        }
        let unknown = sign(&pair, json!({"alg": "ES256", "kid": "k2"}), claims(now));
        assert!(parse(&unknown).unwrap().key(&keys).is_none());
    }
}
