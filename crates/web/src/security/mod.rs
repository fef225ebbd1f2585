//! Everything that protects the browser-facing surface: response headers with a fresh CSP
//! nonce ([`headers`]), the `Host` check ([`host`]), CSRF tokens and cross-origin checks
//! ([`csrf`]), and the `__Host-` cookies both rely on ([`cookies`]).

pub mod cookies;
pub mod csrf;
pub mod headers;
pub mod host;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{TryRng, rngs::SysRng};

/// `N` bytes from the OS random source, base64url without padding. `None` only if the OS
/// random source fails, which callers turn into a 500 rather than a weak value.
pub(crate) fn random_b64<const N: usize>() -> Option<String> {
    let mut bytes = [0u8; N];
    SysRng.try_fill_bytes(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}
