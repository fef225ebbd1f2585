//! The tenant YAML model: parsing, defaults, validation with `line:column` errors, and the
//! JSON Schema product owners' editors use for autocompletion.
//!
//! Pure: no I/O, no HTTP, no SQL.
//!
//! # Layout
//! - [`ids`]: newtypes for tenant and client ids, shared by every crate that names a tenant.

pub mod ids;

pub use ids::{ClientId, IdError, TenantId};
