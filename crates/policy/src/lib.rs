//! Password rules compiled from a tenant's policy.
//!
//! # Layout
//! - [`spec`]: the policy as plain data ([`PolicySpec`]), produced by the tenant crate's
//!   validation and compiled here once per config version.

pub mod spec;

pub use spec::{
    CharacterClass, CharacterClassRule, CompileError, CompileLocation, PolicySpec, RegexRule,
    ScriptExample, ScriptLimits, ScriptRule,
};
