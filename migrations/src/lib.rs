//! Passgate's database schema as sea-orm migrations, applied by `passgate migrate` and by
//! [`Migrator::up`] at startup. The same migrations run on SQLite and PostgreSQL; each file is
//! one step and is never edited after it ships (add a new file instead).
//!
//! # Layout
//! - [`m20261126_000001_initial`]: every table of the first release (tenants, client ids,
//!   config versions, reset tokens, mail outbox, reset jobs, password history, rate-limit
//!   windows, API keys, audit events).
//! - [`m20261201_000020_email_at_rest`]: token emails sealed, outbox recipients digested,
//!   Janrain codes shared through the database.
//! - [`m20261201_000030_sender_domains`]: each tenant's mail grants (sender domains, test
//!   recipients) and the hash of an API key holder's own address.
//! - [`m20261201_000040_auth0_binding`]: typed provider bindings (Auth0 canonical/custom
//!   domains, app client id, New Universal Login, audience; Janrain flow version and
//!   `password_recover_url`); half-filled old bindings become unbound.
//! - [`m20261202_000050_moving_tenants`]: a tenant moving from Janrain to Auth0 (the Janrain
//!   app, its server-side client and sealed secret, the move's policy).
//! - [`m20261203_000060_console_sessions`]: `/console` sign-ins (hashed session token, the
//!   admin key it was opened with, hashed CSRF token, idle and absolute expiry).
//! - [`m20261203_000070_oidc_identities`]: people signed in through the company's OIDC
//!   provider, as API-key rows with the provider's subject.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

pub mod m20261126_000001_initial;
pub mod m20261201_000020_email_at_rest;
pub mod m20261201_000030_sender_domains;
pub mod m20261201_000040_auth0_binding;
pub mod m20261202_000050_moving_tenants;
pub mod m20261203_000060_console_sessions;
pub mod m20261203_000070_oidc_identities;

/// The ordered list of Passgate's migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261201_000020_email_at_rest::Migration),
            Box::new(m20261201_000030_sender_domains::Migration),
            Box::new(m20261201_000040_auth0_binding::Migration),
            Box::new(m20261202_000050_moving_tenants::Migration),
            Box::new(m20261203_000060_console_sessions::Migration),
            Box::new(m20261203_000070_oidc_identities::Migration),
        ]
    }
}
