//! The admin API's use cases: plain functions over the [`super::AdminState`] (store,
//! keyring, clock, document checks) that take and return domain types and
//! [`crate::problem::AdminError`], no HTTP types. Each stores its writes in one store
//! transaction. Handlers extract the request, call one, and map the result.
//!
//! # Layout
//! - [`create_tenant`]: onboard a tenant (row, provider binding, sealed secret, version 1
//!   of its YAML, client ids, sender domains) after checking its document.
//! - [`mail_grants`]: replace a tenant's sender domains or test recipients.
//! - [`manage_keys`]: mint an API key (scope fits role) or revoke one (never one's own).
//! - [`move_tenant`]: start, change or end a tenant's move from Janrain to Auth0; its report.
//! - [`manage_tenant`]: disable or enable a tenant, delete it, add or remove a client id,
//!   rotate its provider secret.
//! - [`publish_config`]: publish a new version of a tenant's YAML, or activate a stored
//!   one, each checked and stored in one conditional write (412 on a lost race).
//! - [`update_tenant`]: rename a tenant and/or rebind its provider (with a new sealed
//!   secret), checked against its active YAML, in one write.

pub mod create_tenant;
pub mod mail_grants;
pub mod manage_keys;
pub mod manage_tenant;
pub mod move_tenant;
pub mod publish_config;
pub mod update_tenant;
