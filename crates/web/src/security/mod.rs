//! Everything that protects the browser-facing surface: response headers with a fresh CSP
//! nonce ([`headers`]), the `Host` check ([`host`]), CSRF tokens and cross-origin checks
//! ([`csrf`]), and the `__Host-` cookies both rely on ([`cookies`]).

pub mod cookies;
pub mod csrf;
pub mod headers;
pub mod host;

use std::cell::RefCell;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng, rngs::SysRng};

/// Bytes a thread's generator gives before it is seeded again from the OS.
const RESEED_AFTER: usize = 64 * 1024;

thread_local! {
    /// Each thread's CSPRNG (ChaCha12, seeded from the OS) and the bytes it has given:
    /// nonces and CSRF tokens without a system call per page (issue 17 item 3).
    static GENERATOR: RefCell<Option<(StdRng, usize)>> = const { RefCell::new(None) };
}

/// `N` bytes from this thread's CSPRNG, seeded (and every [`RESEED_AFTER`] bytes reseeded)
/// from the OS random source, base64url without padding. `None` only if the OS random
/// source fails, which callers turn into a 500 rather than a weak value.
pub(crate) fn random_b64<const N: usize>() -> Option<String> {
    let mut bytes = [0u8; N];
    GENERATOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot
            .as_ref()
            .is_none_or(|(_, given)| *given >= RESEED_AFTER)
        {
            *slot = Some((StdRng::try_from_rng(&mut SysRng).ok()?, 0));
        }
        let (rng, given) = slot.as_mut()?;
        rng.fill_bytes(&mut bytes);
        *given += N;
        Some(())
    })?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    #[test]
    fn tokens_do_not_repeat_across_a_reseed_or_across_threads() {
        let mut seen = HashSet::new();
        // Well past one reseed: 5,000 × 32 bytes.
        for _ in 0..5_000 {
            assert!(seen.insert(super::random_b64::<32>().unwrap()));
        }
        let other: Vec<String> = std::thread::spawn(|| {
            (0..1_000)
                .map(|_| super::random_b64::<32>().unwrap())
                .collect()
        })
        .join()
        .unwrap();
        for token in other {
            assert!(seen.insert(token), "another thread's generator is its own");
        }
        assert_eq!(super::random_b64::<16>().unwrap().len(), 22);
    }
}
