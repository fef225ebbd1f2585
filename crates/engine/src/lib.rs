//! The reset engine: one shared state machine that issues single-use tokens and codes, sends
//! branded mail through a durable outbox and sets passwords through the tenant's identity
//! provider. Plain Rust types in and out: no HTTP, SQL or template types cross its API.
//!
//! Entry points (on [`Engine`]): [`Engine::request_reset`], [`Engine::view_token`],
//! [`Engine::complete_reset`], [`Engine::run_job_worker`], [`Engine::run_outbox_worker`].
//!
//! # Layout
//! - [`engine`]: [`Engine`], [`EngineParts`] and the worker loops.
//! - [`request`]: the request step (rate limits, one durable job, constant-time answer).
//! - [`jobs`]: the job worker: provider lookup, token or code, mail — after the answer.
//! - `strategy`: one reset strategy per tenant mode (hosted link/code, Auth0 ticket, Auth0
//!   email, Janrain), chosen by an exhaustive match.
//! - [`flow`]: the redemption as a typed state machine, and its public input/output types.
//! - `redeem`: [`Engine::view_token`] and [`Engine::complete_reset`].
//! - [`outbox`]: sealed mail rows, the sending worker, backoff and dead letters.
//! - [`rate_limit`]: database-backed limits per IP, account and tenant.
//! - `history`: argon2id password history on a bounded blocking pool.
//! - [`audit`]: audit events and the `passgate::security` tracing target.
//! - `at_rest`: email addresses sealed (token rows) or digested (outbox) at rest.
//! - `breaker`: a circuit breaker per tenant around its identity provider.
//! - `settle`: retries the "done"/"sent" mark of finished work through a database blip.
//! - [`tenants`], [`providers`], [`render`]: the seams to routing, identity providers and
//!   themes.
//! - [`settings`]: platform settings; [`error`]: [`EngineError`] and the step outcomes.
//! - [`client_ip`], [`clock`], [`email_address`], [`mail`], [`sealing`], [`secret_token`]:
//!   the building blocks (trusted-proxy client IP, time as input, the strict email grammar,
//!   SMTP and dev transports, AES-256-GCM keyring, tokens and codes with keyed digests).

mod at_rest;
pub mod audit;
mod breaker;
pub mod client_ip;
pub mod clock;
pub mod email_address;
pub mod engine;
pub mod error;
#[cfg(test)]
mod fakes;
pub mod flow;
mod guarded;
mod history;
pub mod jobs;
pub mod live_check;
pub mod mail;
pub mod outbox;
mod outcome;
mod policy_check;
pub mod providers;
pub mod rate_limit;
mod redeem;
pub mod render;
pub mod request;
pub mod sealing;
pub mod secret_token;
pub mod settings;
mod settle;
mod strategy;
pub mod tenants;
mod tokens;

pub use audit::SECURITY_TARGET;
pub use clock::{Clock, FixedClock, SystemClock};
pub use engine::{Engine, EngineParts};
pub use error::{CompleteError, EngineError, InvalidLink, PasswordCheckError, RequestError};
pub use flow::{CompleteInput, Completed, Credential, TokenView};
pub use jobs::JobRound;
pub use outbox::OutboxRound;
pub use providers::{FixedProviders, ProviderDirectory, StoredProviders, seal_provider_secret};
pub use render::{MailContent, MailRenderer, RenderedMail, ThemeRenderer};
pub use request::{RequestAccepted, RequestInput};
pub use sealing::{KeyId, Keyring, Sealed, SealingError};
pub use secret_token::{FlowId, LinkToken, ResetCode, TokenDigest, TokenHasher};
pub use settings::{EngineSettings, WorkerSettings};
pub use tenants::{StaticTenants, TenantDirectory, TenantRuntime};
