//! Password rules compiled from a tenant's policy, and the check that runs them.
//!
//! A tenant's [`PolicySpec`] is compiled once per config version into a [`CompiledPolicy`]
//! (regexes built with size limits, the JavaScript rule loaded in its sandbox, its examples
//! verified); [`check()`] then returns every [`Violation`] of a candidate password, each with
//! a stable code, a message key and parameters. See `docs/password-policy.md`.
//!
//! # Layout
//! - [`spec`]: the policy as plain data, produced by the tenant crate.
//! - `compiled`: [`CompiledPolicy::compile`], which reports all problems at once.
//! - `check`: [`check()`] and its [`CheckContext`] (email, name, tenant, locale).
//! - `violation`: [`Violation`] codes, message keys, parameters and English texts.
//! - `sequences`: the light matcher for regex rules that are fixed runs of characters
//!   (`(?i)acme`, `^\d{4}$`): the same answers as the regex in a few hundred bytes.
//! - `regex_js`: [`browser_pattern`], a regex rule as an ECMAScript pattern with the same
//!   matches, for live checks in browsers and apps.
//! - `blocklist`: the bundled list of 30,000 common passwords.
//! - `script`: the JavaScript rule in a QuickJS sandbox on a worker pool with a watchdog.

mod blocklist;
mod check;
mod compiled;
mod regex_js;
mod script;
mod sequences;
pub mod spec;
mod violation;

pub use blocklist::common_password_count;
pub use check::{CheckContext, MIN_CONTEXT_WORD_CHARS, ZXCVBN_MAX_CHARS, check};
pub use compiled::{
    CompiledPolicy, MAX_PATTERN_BYTES, REGEX_DFA_SIZE_LIMIT, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT,
};
pub use regex_js::{BROWSER_PATTERN_FLAGS, MAX_BROWSER_PATTERN_BYTES, browser_pattern};
#[doc(hidden)]
pub use script::LocalScript;
pub use script::{
    DOCUMENT_CPU, DOCUMENT_WALL, MAX_DECLARED_PARAMS, MAX_PARAM_VALUE_CHARS, MAX_PARAM_VALUES,
    MAX_SCRIPT_BYTES, MAX_TIMEOUT_MS, MEMORY_BYTES_RANGE, STACK_BYTES_RANGE,
    script_worker_restarts,
};
pub use spec::{
    CharacterClass, CharacterClassRule, CompileError, CompileLocation, PolicySpec, RegexRule,
    ScriptExample, ScriptLimits, ScriptParam, ScriptRule,
};
pub use violation::{
    PersonalInfoField, ScriptFailure, Violation, default_english_messages, render,
};
