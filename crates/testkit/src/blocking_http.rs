//! The blocking HTTP client of tests that talk to real processes over loopback.

use std::time::Duration;

/// A client that follows no redirects and gives up after a minute (a hang guard).
///
/// # Panics
/// When the TLS back end cannot be set up (never, with the ring provider).
#[allow(clippy::expect_used)] // test support: a broken client fails the test loudly
pub fn client() -> reqwest::blocking::Client {
    builder().build().expect("a blocking HTTP client")
}

/// [`client`]'s settings, for a test that adds its own (a local address, say).
pub fn builder() -> reqwest::blocking::ClientBuilder {
    install_crypto_provider();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
}

/// The ring provider as the process default (reqwest is built without one).
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: one provider is then in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
