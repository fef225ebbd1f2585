//! Routing: from the client id a request names to the tenant that serves it, as an
//! `Arc<TenantRuntime>` (validated config, compiled password policy, config version), through
//! a moka cache over the store so the hot path never touches the database.
//!
//! Staleness is bounded three ways: every write through a [`passgate_store::Store`] invalidates
//! this process's cache before the write call returns; on PostgreSQL, a listener on
//! [`passgate_store::TENANT_CHANGED_CHANNEL`] invalidates what other replicas changed, and
//! drops everything after it reconnects (a notification missed while disconnected cannot leave
//! stale config behind); and every entry expires after a TTL as the last safety net.
//!
//! # Layout
//! - [`runtime`]: [`TenantRuntime`], what a resolved client id gives.
//! - [`router`]: [`Router`]: resolve, invalidate, attach to a store.
//! - `listener`: the PostgreSQL `LISTEN` loop with reconnect and resync.
//! - [`error`]: the crate's error type, [`RoutingError`].

pub mod error;
mod listener;
pub mod router;
pub mod runtime;

pub use error::RoutingError;
pub use router::{Router, RouterOptions};
pub use runtime::TenantRuntime;
