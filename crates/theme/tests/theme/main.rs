//! The theme crate's integration tests in one binary: startup checks, rendered pages and
//! emails, fallback to the default theme, class name spaces, hostile strings. Each former
//! `tests/<name>.rs` is the module `<name>`.

mod check;
mod common;
mod emails;
mod fallback;
mod layout;
mod pages;
mod xss;
