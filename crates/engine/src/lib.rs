//! The reset engine: one shared state machine that issues single-use tokens and codes, sends
//! branded mail through a durable outbox and sets passwords through the tenant's identity
//! provider. Plain Rust types in and out: no HTTP, SQL or template types cross its API.
//!
//! Entry points (on [`Engine`]): [`Engine::request_reset`], [`Engine::view_token`],
//! [`Engine::check_code`], [`Engine::complete_reset`], [`Engine::run_job_worker`],
//! [`Engine::run_outbox_worker`].
//!
//! The engine holds narrow components, each owning only what it needs ([`tokens`]' rows,
//! [`rate_limit`]'s limits, the [`outbox`], the [`jobs`] queue, the guarded providers, the
//! password history, Janrain's code state, the audit trail); every step takes the components
//! it touches in its signature, so a step shows what it reads and writes and can be tested
//! alone with the fakes of `fakes`.
//!
//! Module imports form a DAG (no module reaches back into [`engine`] or into the steps that
//! call it). To see the graph, and to fail on a cycle:
//! `cargo test -p passgate-engine --test engine module_graph -- --nocapture`.
//!
//! # Layout
//! - [`engine`]: [`Engine`], [`EngineParts`], the components it holds and the worker loops.
//! - [`request`]: the request step (rate limits, one durable job, constant-time answer).
//! - [`jobs`]: the job queue and worker: provider lookup, token or code, mail — after the
//!   answer.
//! - `strategy`: issuing, one strategy per tenant mode (hosted link/code, Auth0 ticket, Auth0
//!   email, Janrain), chosen by an exhaustive match; `strategy::janrain` also keeps Janrain
//!   codes' shared state.
//! - [`flow`]: the redemption of every credential form (hosted link, hosted code, Janrain) as
//!   one typed state machine, and its public input/output types.
//! - `outcome`: the machine's typed ends (`Refusal`, `Unavailable`, `Outcome`).
//! - `redeem`: the entry points of redemption and the one driver of the machine (limits,
//!   confirmation, refusal count, audit for every mode).
//! - [`live_check`]: the read-only live password check of a link.
//! - `policy_check`: the tenant's policy as a step on the blocking pool.
//! - `tokens`: hosted token and flow rows (digests, sealed email, consume/release).
//! - [`outbox`]: sealed mail rows, the sending worker, backoff and dead letters.
//! - [`rate_limit`]: database-backed limits per IP, account, credential and tenant.
//! - `history`: argon2id password history on a bounded blocking pool.
//! - [`audit`]: audit events and the `passgate::security` tracing target.
//! - `at_rest`: sealed values at rest (token emails, outbox recipients' digests, blobs).
//! - `guarded`: the provider directory the steps use: the tenant's circuit checked on
//!   hand-out and fed by every call, with one outage rule.
//! - `breaker`: a circuit breaker per tenant around its identity provider.
//! - `source_guard`: the Janrain side of a tenant moving to Auth0 behind its own circuit.
//! - `gate`: a provider client with a gate (a circuit) around every call.
//! - `settle`: retries the "done"/"sent" mark of finished work through a database blip.
//! - `group_commit`: one committer writes every finished item waiting at once.
//! - `staged_writes`: the rows a job writes, gathered and committed with its "done" mark.
//! - [`tenants`], [`providers`], [`render`]: the seams to routing, identity providers and
//!   themes.
//! - [`settings`]: platform settings; [`error`]: [`EngineError`] and the step outcomes.
//! - [`client_ip`], [`clock`], [`email_address`], [`mail`], [`sealing`], [`secret_token`]:
//!   the building blocks (trusted-proxy client IP, time as input (`passgate-clock`), the
//!   strict email grammar, SMTP and dev transports, AES-256-GCM keyring, tokens and codes
//!   with keyed digests).
//! - `fakes` (tests only): a scripted provider, a plain renderer and a kit of components.

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
mod gate;
mod group_commit;
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
mod source_guard;
mod staged_writes;
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
pub use providers::{
    FixedProviders, ProviderDirectory, StoredProviders, seal_move_secret, seal_provider_secret,
};
pub use render::{MailContent, MailRenderer, RenderedMail, ThemeRenderer};
pub use request::{RequestAccepted, RequestInput};
pub use sealing::{KeyId, Keyring, Sealed, SealingError};
pub use secret_token::{FlowId, LinkToken, ResetCode, TokenDigest, TokenHasher};
pub use settings::{EngineSettings, WorkerSettings};
pub use tenants::{StaticTenants, TenantDirectory, TenantRuntime};
