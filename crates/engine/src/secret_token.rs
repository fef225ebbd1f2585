//! Link tokens and typed codes.
//!
//! A link token is 256 bits from the operating system's CSPRNG, written URL-safe (43
//! characters of unpadded base64url). A code is 8 decimal digits drawn uniformly. Neither is
//! ever stored: the database keeps a [`TokenDigest`], an HMAC-SHA256 under a server key, so a
//! leaked table cannot be replayed and an 8-digit code cannot be brute-forced offline. Lookups
//! go by digest, so comparison time never depends on how much of a guess was right.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::{TryRng, rngs::SysRng};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The OS random source failed; nothing can be issued safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomSourceFailed;

fn random_bytes<const N: usize>() -> Result<[u8; N], RandomSourceFailed> {
    let mut bytes = [0u8; N];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| RandomSourceFailed)?;
    Ok(bytes)
}

/// A 256-bit single-use link token. Its text appears only in the emailed link.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// Bytes of entropy in a token.
    pub const BYTES: usize = 32;
    /// Length of its text form.
    pub const TEXT_LEN: usize = 43;

    /// Draws a fresh token from the OS CSPRNG.
    pub fn generate() -> Result<Self, RandomSourceFailed> {
        Ok(Self(
            URL_SAFE_NO_PAD.encode(random_bytes::<{ Self::BYTES }>()?),
        ))
    }

    /// Accepts a token from a request only if it has the exact shape of one we issue;
    /// anything else is treated like an unknown token by the caller.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != Self::TEXT_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        (bytes.len() == Self::BYTES).then(|| Self(text.to_owned()))
    }

    /// The token text, for building the emailed link. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// An 8-digit code the user types into the app or the page.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetCode(String);

impl ResetCode {
    /// Number of digits.
    pub const DIGITS: usize = 8;

    /// Draws a fresh code, uniform over `00000000..=99999999` (rejection sampling, no modulo
    /// bias).
    pub fn generate() -> Result<Self, RandomSourceFailed> {
        const RANGE: u32 = 100_000_000;
        // Largest multiple of RANGE that fits in u32: values at or above it are redrawn.
        const ZONE: u32 = u32::MAX - (u32::MAX % RANGE);
        loop {
            let value = u32::from_le_bytes(random_bytes::<4>()?);
            if value < ZONE {
                return Ok(Self(format!("{:08}", value % RANGE)));
            }
        }
    }

    /// Accepts exactly 8 ASCII digits, ignoring spaces and dashes a user may type for
    /// readability.
    pub fn parse(text: &str) -> Option<Self> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        (digits.len() == Self::DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Self(digits))
    }

    /// The code text, for the email. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResetCode(<redacted>)")
    }
}

/// A random, non-secret id of one reset request, returned to the client (code mode types the
/// code against it). 128 bits, so ids of unknown accounts look exactly like the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowId(String);

impl FlowId {
    /// Length of its text form (16 bytes, unpadded base64url).
    pub const TEXT_LEN: usize = 22;

    /// Draws a fresh id from the OS CSPRNG.
    pub fn generate() -> Result<Self, RandomSourceFailed> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?)))
    }

    /// Accepts only the exact shape [`FlowId::generate`] produces.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != Self::TEXT_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        (bytes.len() == 16).then(|| Self(text.to_owned()))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The stored form of a token or code: HMAC-SHA256 under the server's token key.
#[derive(Clone, Copy, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The 32 digest bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Lowercase hex, the form kept in the database.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl PartialEq for TokenDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is not secret, but a short prefix is enough to correlate log lines.
        write!(f, "TokenDigest({}…)", &self.to_hex()[..8])
    }
}

/// Computes [`TokenDigest`]s. The key is derived from the master key, so rotating the master
/// key does not silently invalidate outstanding tokens unless the operator wants it to.
#[derive(Clone)]
pub struct TokenHasher {
    key: [u8; 32],
}

impl TokenHasher {
    /// A hasher with the given 256-bit key.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, parts: &[&[u8]]) -> TokenDigest {
        // RFC 2104 zero-pads keys shorter than the block, so a 64-byte block holding the
        // 32-byte key is the same HMAC key, with no fallible length check.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.key);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        TokenDigest(mac.finalize().into_bytes().into())
    }

    /// Digest of a link token.
    pub fn link(&self, token: &LinkToken) -> TokenDigest {
        self.mac(&[b"passgate/link/v1", token.0.as_bytes()])
    }

    /// Digest naming a code-mode flow's own row (which counts wrong attempts and is consumed
    /// once); the flow id is not secret, so this row proves nothing by itself.
    pub fn flow(&self, flow_id: &FlowId) -> TokenDigest {
        self.mac(&[b"passgate/flow/v1", flow_id.0.as_bytes()])
    }

    /// Keyed digest of an account key (lowercased email) for rate-limit buckets: a bucket
    /// name never holds the email.
    pub fn account(&self, lookup_key: &str) -> TokenDigest {
        self.mac(&[b"passgate/account/v1", lookup_key.as_bytes()])
    }

    /// Keyed digest of a mail recipient (lowercased address) for the outbox row: the row
    /// names its recipient without holding the address.
    pub fn recipient(&self, address: &str) -> TokenDigest {
        self.mac(&[b"passgate/recipient/v1", address.as_bytes()])
    }

    /// Digest of a Janrain reset code: the key of its shared row (tenant, state). Not bound
    /// to a tenant, so the same code presented through another tenant finds the row.
    pub fn janrain_code(&self, code: &str) -> TokenDigest {
        self.mac(&[b"passgate/janrain-code/v1", code.as_bytes()])
    }

    /// Digest of a code, bound to the reset flow it was issued for: the same 8 digits in
    /// another flow give another digest, and a guess only ever tests one flow.
    pub fn code(&self, flow_id: &FlowId, code: &ResetCode) -> TokenDigest {
        self.mac(&[b"passgate/code/v1", flow_id.0.as_bytes(), code.0.as_bytes()])
    }
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHasher(<key redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_never_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let token = LinkToken::generate().unwrap();
            assert_eq!(token.expose().len(), LinkToken::TEXT_LEN);
            assert_eq!(URL_SAFE_NO_PAD.decode(token.expose()).unwrap().len(), 32);
            assert!(seen.insert(token.expose().to_owned()), "duplicate token");
        }
    }

    #[test]
    fn token_parse_accepts_only_our_shape() {
        let token = LinkToken::generate().unwrap();
        assert_eq!(LinkToken::parse(token.expose()), Some(token.clone()));
        assert_eq!(LinkToken::parse(""), None);
        assert_eq!(LinkToken::parse(&token.expose()[1..]), None);
        assert_eq!(LinkToken::parse(&"!".repeat(43)), None);
        assert_eq!(LinkToken::parse(&"A".repeat(4096)), None);
    }

    #[test]
    fn codes_are_eight_digits_and_spread_over_the_range() {
        let mut leading = HashSet::new();
        for _ in 0..2_000 {
            let code = ResetCode::generate().unwrap();
            assert_eq!(code.expose().len(), 8);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
            leading.insert(code.expose().as_bytes()[0]);
        }
        assert_eq!(
            leading.len(),
            10,
            "every leading digit appears, zero included"
        );
        assert_eq!(ResetCode::parse("1234-5678").unwrap().expose(), "12345678");
        assert_eq!(ResetCode::parse("1234567"), None);
        assert_eq!(ResetCode::parse("1234567a"), None);
        assert_eq!(
            ResetCode::parse("１２３４５６７８"),
            None,
            "full-width digits are refused"
        );
    }

    #[test]
    fn digests_are_keyed_and_domain_separated() {
        let token = LinkToken::generate().unwrap();
        let a = TokenHasher::new([1; 32]);
        let b = TokenHasher::new([2; 32]);
        assert_eq!(a.link(&token), a.link(&token));
        assert_ne!(
            a.link(&token),
            b.link(&token),
            "another key, another digest"
        );
        assert!(!a.link(&token).to_hex().contains(token.expose()));

        let code = ResetCode::parse("12345678").unwrap();
        let (f1, f2) = (FlowId::generate().unwrap(), FlowId::generate().unwrap());
        assert_eq!(FlowId::parse(f1.as_str()), Some(f1.clone()));
        assert_ne!(
            a.flow(&f1),
            a.code(&f1, &code),
            "flow row and code row differ"
        );
        assert_ne!(a.code(&f1, &code), a.code(&f2, &code), "bound to the flow");
    }

    #[test]
    fn secrets_do_not_print() {
        let token = LinkToken::generate().unwrap();
        let code = ResetCode::generate().unwrap();
        let printed = format!("{token:?} {code:?} {:?}", TokenHasher::new([7; 32]));
        assert!(!printed.contains(token.expose()));
        assert!(!printed.contains(code.expose()));
        assert!(printed.contains("redacted"));
    }
}
