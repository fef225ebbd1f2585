//! The reset engine: one shared state machine that issues single-use tokens and codes, sends
//! branded mail through a durable outbox and sets passwords through the tenant's identity
//! provider.
//!
//! # Layout
//! - [`client_ip`]: the client address behind trusted proxies, for per-IP limits.
//! - [`clock`]: time as an input ([`Clock`]), so expiry and rate-limit tests are exact.
//! - [`secret_token`]: link tokens and typed codes: generation from the OS CSPRNG and the keyed
//!   hash that is the only thing stored.
//! - [`email_address`]: the strict grammar for a submitted email; masking for logs.
//! - [`mail`]: transports: SMTP (lettre) for production, an in-memory dev mailbox for the
//!   demo.
//! - [`sealing`]: AES-256-GCM envelopes with key ids, for mail bodies and provider secrets at
//!   rest.

pub mod client_ip;
pub mod clock;
pub mod email_address;
pub mod mail;
pub mod sealing;
pub mod secret_token;

pub use clock::{Clock, FixedClock, SystemClock};
pub use sealing::{KeyId, Keyring, Sealed, SealingError};
pub use secret_token::{LinkToken, ResetCode, TokenDigest, TokenHasher};
