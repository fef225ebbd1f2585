//! The bodies of Passgate's fuzz targets, in one place so that the cargo-fuzz binaries under
//! `fuzz/` (nightly) and the corpus replay test (stable, in CI) run exactly the same code.
//! Each target takes arbitrary bytes, drives one parser or checker, and asserts the cheap
//! invariants that must hold whatever arrives; a panic here is a bug. See `docs/fuzzing.md`.
//!
//! # Layout
//! - [`tenant_yaml`]: the tenant YAML parser and validator.
//! - [`form_decoder`]: the hosted pages' strict form and query decoder.
//! - [`json_decoder`]: the `/v1` duplicate-key guard and request bodies (both decoders live
//!   in the private `decoders` module).
//! - [`policy_check`]: a policy with arbitrary rules and script, compiled, then checked.
//! - [`TARGETS`]: every target by its cargo-fuzz name (the corpus directory names).

// Harness code: a failed invariant must stop the fuzzer (or the replay test) loudly.
#![allow(clippy::panic)]

mod decoders;
mod policy;
mod tenant;

pub use decoders::{form_decoder, json_decoder};
pub use policy::{POLICY_HEADER_BYTES, policy_check};
pub use tenant::tenant_yaml;

/// A target body: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by its cargo-fuzz name, which is also its directory under `fuzz/corpus/`
/// and `fuzz/regressions/`.
pub const TARGETS: [(&str, Target); 4] = [
    ("tenant_yaml", tenant_yaml),
    ("form_decoder", form_decoder),
    ("json_decoder", json_decoder),
    ("policy_check", policy_check),
];
