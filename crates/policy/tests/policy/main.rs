//! The policy crate's integration tests in one binary: the built-in rules, the JavaScript
//! rule, the browser-pattern differential test and the property test. Each former
//! `tests/<name>.rs` is the module `<name>`; each script test has a pool tenant of its own.
//! `script_share` stays a binary of its own: its flood of runaway scripts would slow these,
//! and they would disturb its measurement.

mod arbitrary;
mod regex_js;
mod rules;
mod script;
