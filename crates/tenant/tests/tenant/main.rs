//! The tenant crate's integration tests in one binary: the golden corpus of bad documents,
//! branding contrast, the shipped examples and schema, and the never-panics property tests.
//! Each former `tests/<name>.rs` is the module `<name>`.

mod bad_configs;
mod contrast;
mod examples;
mod never_panics;
