//! Passgate's HTTP server (being built).
//!
//! # Layout
//! - [`admin`]: the admin API under `/admin/v1`.

pub mod admin;
