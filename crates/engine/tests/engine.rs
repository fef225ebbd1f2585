//! The engine's integration tests, in one binary (one link step instead of nine): a real
//! SQLite store (PostgreSQL for `postgres`, when `PASSGATE_TEST_POSTGRES_URL` is set), the
//! provider simulator, an SMTP sink and a fixed clock (see `common`).
//!
//! - `modes`: every reset mode end to end, in two locales.
//! - `redemption`: the same redemption cases (limits, the audit of every outcome) run for
//!   each credential form: hosted link, hosted code, Janrain.
//! - `security_a`, `security_b`, `security_c`: the security checklist (tokens, enumeration,
//!   rate limits).
//! - `faults`: provider and SMTP outages, the circuit breaker.
//! - `operations`: logs, audit, sealing at rest, workers, purges, Janrain code state.
//! - `moving`: a tenant moving from Janrain to Auth0 (outages of one side).
//! - `sessions`: session revocation after a change.
//! - `postgres`: the concurrency-sensitive cases on PostgreSQL.
//! - `module_graph`: the engine's `use crate::` graph has no cycle.
//! - `throughput`: figures on demand (ignored by default).
//! - `wakeup`: an enqueue wakes the workers; a full batch claims again; poll is the fallback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "engine/faults.rs"]
mod faults;
#[path = "engine/modes.rs"]
mod modes;
#[path = "engine/module_graph.rs"]
mod module_graph;
#[path = "engine/moving.rs"]
mod moving;
#[path = "engine/operations.rs"]
mod operations;
#[path = "engine/postgres.rs"]
mod postgres;
#[path = "engine/redemption.rs"]
mod redemption;
#[path = "engine/security_a.rs"]
mod security_a;
#[path = "engine/security_b.rs"]
mod security_b;
#[path = "engine/security_c.rs"]
mod security_c;
#[path = "engine/sessions.rs"]
mod sessions;
#[path = "engine/throughput.rs"]
mod throughput;
#[path = "engine/wakeup.rs"]
mod wakeup;
