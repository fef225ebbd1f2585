//! The real processes Passgate's system tests and load benchmark run against: `passgate
//! serve` (one or more replicas), `passgate idp-sim`, a loopback SMTP sink, and a database
//! (SQLite file, a fresh PostgreSQL database, or a private PostgreSQL server that can be
//! restarted). Everything talks over real sockets; nothing is mocked.
//!
//! # Layout
//! - [`process`]: a child process whose output is captured and which dies with its owner.
//! - [`database`]: [`TestDatabase`] (SQLite / fresh PostgreSQL database) and
//!   [`PrivatePostgres`] (a server of our own, to stop and start).
//! - [`sim`]: [`SimProcess`], the provider simulator and its `/_sim/` control API.
//! - [`mail`]: [`MailSink`], the SMTP sink on its own runtime, and link extraction.
//! - [`gateway`]: [`GatewayProcess`], the CLI set-up steps and [`Deployment`], a whole
//!   installation (database, simulator, sink, tenants, replicas) in one call.
//! - [`load`]: [`Load`], background HTTP traffic with a report of what came back.
//! - [`connections`]: many raw keep-alive connections held open and used together.
//! - [`provider_faults`]: what the provider, mail and concurrency fault scenarios share.
//! - [`replica_checks`]: what the database, configuration and replica scenarios share.
//! - [`client`]: [`ResetClient`], the public `/v1` API and the admin API as a user and an
//!   operator call them.

pub mod client;
pub mod connections;
pub mod database;
pub mod gateway;
pub mod load;
pub mod mail;
pub mod process;
pub mod provider_faults;
pub mod replica_checks;
pub mod sim;

pub use client::{AdminClient, ResetClient};
pub use database::{PrivatePostgres, TestDatabase};
pub use gateway::{Deployment, DeploymentOptions, GatewayProcess};
pub use load::{Load, LoadReport, RequestSpec};
pub use mail::{MailSink, reset_token_in};
pub use passgate_smtp_sink::Mode as SmtpMode;
pub use process::ManagedChild;
pub use sim::SimProcess;

/// The public origin every testbed gateway is configured with, and its host, which requests
/// carry in `Host` (the gateway answers 400 to any other host).
pub use passgate_testkit::public_origin::{PUBLIC_HOST, PUBLIC_URL};
/// A fixed master key (tests only).
pub const MASTER_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The password every seeded user starts with.
pub const INITIAL_PASSWORD: &str = "Initial-Passw0rd";
