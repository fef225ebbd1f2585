//! A tenant's password policy as plain data: what the product owner asked for, already
//! checked against the platform bounds by the tenant crate. [`crate`] compiles it.

/// Platform floor for `min_length`: no tenant may go below it (NIST 800-63B, ASVS 6.2.1).
pub const MIN_LENGTH_FLOOR: usize = 8;
/// Default `min_length` when a tenant says nothing (NIST 800-63B-4: 15 for single-factor).
pub const DEFAULT_MIN_LENGTH: usize = 15;
/// `max_length` may never be set below this: 64 characters must always be accepted.
pub const MAX_LENGTH_FLOOR: usize = 64;
/// Default `max_length`.
pub const DEFAULT_MAX_LENGTH: usize = 128;
/// bcrypt (Auth0's database connections) reads only this many bytes of a password, so a
/// longer UTF-8 encoding is rejected instead of being silently truncated by the provider.
pub const PROVIDER_MAX_BYTES: usize = 72;

/// The whole policy of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    /// Fewest characters (Unicode code points) accepted.
    pub min_length: usize,
    /// Most characters accepted; longer passwords are rejected, never truncated.
    pub max_length: usize,
    /// Required character classes (opt-in composition rule; not NIST-conformant).
    pub character_classes: Option<CharacterClassRule>,
    /// Named regular-expression rules, checked in order.
    pub regex_rules: Vec<RegexRule>,
    /// Minimum zxcvbn score (0–4), if any.
    pub min_strength: Option<u8>,
    /// Reject passwords that contain the user's email local part, name or the tenant name.
    pub ban_personal_info: bool,
    /// Check the bundled list of common passwords.
    pub common_blocklist: bool,
    /// Extra words this tenant forbids (compared case-insensitively to the whole password).
    pub extra_blocklist: Vec<String>,
    /// How many previous passwords may not be reused (enforced by the engine, not here).
    pub history_depth: u8,
    /// The tenant's JavaScript rule, if any.
    pub script: Option<ScriptRule>,
}

impl Default for PolicySpec {
    fn default() -> Self {
        Self {
            min_length: DEFAULT_MIN_LENGTH,
            max_length: DEFAULT_MAX_LENGTH,
            character_classes: None,
            regex_rules: Vec::new(),
            min_strength: None,
            ban_personal_info: true,
            common_blocklist: true,
            extra_blocklist: Vec::new(),
            history_depth: 0,
            script: None,
        }
    }
}

/// One of the character classes a composition rule can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CharacterClass {
    /// A lowercase letter (Unicode `Lowercase`).
    Lowercase,
    /// An uppercase letter (Unicode `Uppercase`).
    Uppercase,
    /// A number (Unicode `N`: `char::is_numeric`, so `٣` and `²` count as digits too).
    Digit,
    /// Anything that is not a letter or digit (punctuation, symbols, spaces, emoji).
    Symbol,
}

impl CharacterClass {
    /// The stable name used in codes and YAML (`lowercase`, `uppercase`, `digit`, `symbol`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Lowercase => "lowercase",
            Self::Uppercase => "uppercase",
            Self::Digit => "digit",
            Self::Symbol => "symbol",
        }
    }
}

/// A composition rule: the password must contain at least `min_classes` of `classes`
/// (all of them when `min_classes` equals their number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterClassRule {
    /// The classes that count.
    pub classes: Vec<CharacterClass>,
    /// How many of them must appear.
    pub min_classes: usize,
}

/// A named regular-expression rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexRule {
    /// Stable name; the violation code is `regex:<name>`.
    pub name: String,
    /// The pattern (Rust `regex` syntax: linear time, no backreferences or lookaround).
    pub pattern: String,
    /// `true`: the password must match; `false`: the password must not match.
    pub must_match: bool,
    /// Message key shown when the rule is violated.
    pub message_key: String,
}

/// The tenant's JavaScript rule: `function validate(password, ctx)` returning message keys
/// or `{key, params}` objects whose params are among [`ScriptRule::params`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRule {
    /// The tenant the script belongs to. Part of every cache key and the unit of the
    /// script pool's fair share: two tenants with the same script share nothing.
    pub tenant: String,
    /// The script source.
    pub source: String,
    /// The parameter names a returned violation may carry, each with the literal values
    /// it may take (declared in the tenant's YAML). Anything else fails closed.
    pub params: Vec<ScriptParam>,
    /// Passwords with the violation codes they must produce; run at validation time so a
    /// broken rule cannot be published.
    pub examples: Vec<ScriptExample>,
    /// Sandbox limits for this script.
    pub limits: ScriptLimits,
}

/// A parameter a script's violations may carry, with every value it may take: literals the
/// tenant's YAML declares, so no value a script computes can reach a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptParam {
    /// Placeholder name (`max` for `{max}`).
    pub name: String,
    /// The allowed values, as the text a message shows (`3`, `"Q1 2026"`).
    pub values: Vec<String>,
}

/// One example of a script rule: a password and the exact set of codes `check` must return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptExample {
    /// The example password.
    pub password: String,
    /// Expected violation codes (e.g. `script:no_repeats`, `min_length`); empty = accepted.
    pub expect: Vec<String>,
}

/// Sandbox limits for one script. The tenant crate keeps them within platform ceilings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// CPU-time budget per evaluation (of the worker thread), in milliseconds, covering the
    /// fresh context's top level and the call; at compile time the load and all examples
    /// share one document budget instead (`DOCUMENT_CPU`).
    pub timeout_ms: u64,
    /// Heap cap of the script runtime, in bytes.
    pub memory_bytes: usize,
    /// Stack cap of the script runtime, in bytes (QuickJS disables the check above 16 MiB).
    pub stack_bytes: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            timeout_ms: 50,
            memory_bytes: 16 * 1024 * 1024,
            stack_bytes: 256 * 1024,
        }
    }
}

/// Where in a [`PolicySpec`] a compile problem sits, so the tenant crate can point at the
/// YAML key (and its line and column) that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileLocation {
    /// `regex_rules[index]`.
    RegexRule(usize),
    /// The script source.
    Script,
    /// `script.examples[index]`.
    ScriptExample(usize),
    /// `extra_blocklist[index]`.
    ExtraBlocklist(usize),
    /// The policy as a whole.
    Policy,
}

/// One reason a [`PolicySpec`] cannot be compiled (e.g. a regex too large, a script syntax
/// error, a script example that does not produce its expected codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// Which part of the spec is wrong.
    pub location: CompileLocation,
    /// What is wrong, in one sentence a product owner understands.
    pub message: String,
}
