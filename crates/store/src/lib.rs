//! Passgate's persistent state: tenants, client ids, config versions, reset tokens, the mail
//! outbox, background jobs, password history, rate-limit windows, API keys and the audit log,
//! on SQLite (the embedded default) or PostgreSQL (for several replicas), with the same code.
//!
//! Callers program against the repository traits in [`repo`], which speak the domain types of
//! [`model`]; [`Store`] implements every trait over one sea-orm connection pool. Writes that
//! change what a client id resolves to run the hooks registered with
//! [`Store::on_tenant_change`] after commit and, on PostgreSQL, `NOTIFY`
//! [`TENANT_CHANGED_CHANNEL`] inside the transaction, so caches in every replica can drop
//! stale config.
//!
//! # Layout
//! - [`model`]: domain types (rows as the rest of Passgate sees them).
//! - [`repo`]: the repository traits.
//! - [`store`]: [`Store`]: connecting, migrating, transactions, change hooks.
//! - [`queue_signal`]: on PostgreSQL, enqueues `NOTIFY` and workers `LISTEN`, across replicas.
//! - [`error`]: the crate's error type, [`StoreError`].
//! - `entity`: sea-orm entities (private).
//! - `sql`: the trait implementations, one module per area (private).

mod entity;
pub mod error;
pub mod model;
pub mod queue_signal;
pub mod repo;
mod sql;
pub mod store;

pub use error::{StoreError, StoreResult};
pub use model::*;
pub use queue_signal::QueueChannel;
pub use repo::*;
pub use store::{Backend, ChangeHook, Store, StoreOptions, TENANT_CHANGED_CHANNEL};
