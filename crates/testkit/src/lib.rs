//! What the integration tests of the engine, web, system and other crates share, so each
//! harness keeps only what needs its own crate's types. A dev-dependency only; it depends on
//! no gateway crate except `passgate-idp` (feature `idp`, for its `HttpConfig` and
//! `HostPolicy`).
//!
//! # Layout
//! - [`paths`]: the workspace root, `themes/` and `tenants/`.
//! - [`public_origin`]: the public URL and `Host` the gateway is configured with in tests.
//! - [`mime`]: the decoded text parts of a raw message (quoted-printable, base64).
//! - [`reset_mail`]: the reset link, its token and the 8-digit code in a mail's text.
//! - [`postgres`]: the `PASSGATE_TEST_POSTGRES_URL` / `PASSGATE_REQUIRE_POSTGRES` gate.
//! - [`process_lock`]: one lock serialising the tests of a binary that start real processes.
//! - `blocking_http` (feature `blocking`): the blocking client for real processes.
//! - `provider_http` (feature `idp`): short provider timeouts, loopback hosts allowed.

#[cfg(feature = "blocking")]
pub mod blocking_http;
pub mod mime;
pub mod paths;
pub mod postgres;
pub mod process_lock;
#[cfg(feature = "idp")]
pub mod provider_http;
pub mod public_origin;
pub mod reset_mail;
