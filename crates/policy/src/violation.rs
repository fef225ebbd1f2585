//! What a rejected password is told: one [`Violation`] per broken rule, each with a stable
//! code (for APIs and tests), a message key (for the theme and tenant catalogs) and the
//! placeholder values its message needs. No violation ever carries the password itself.

use crate::spec::CharacterClass;

/// Why the tenant's JavaScript rule could not give an answer. The password is then rejected
/// (fail closed) and the user is asked to try again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptFailure {
    /// The script ran past its CPU-time budget or a wall-clock cap (interrupt or external
    /// watchdog).
    Timeout,
    /// The script hit the runtime's memory cap.
    Memory,
    /// The script hit the stack cap (deep recursion, deeply nested data).
    Stack,
    /// The script threw (or failed to load: syntax error, no `validate` function).
    Exception,
    /// `validate` returned something other than an array of keys or `{key, params}` objects.
    BadReturn,
    /// Every script worker was busy for too long; the evaluation never started.
    Overloaded,
}

impl ScriptFailure {
    /// Stable name used in the `reason` parameter, logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Memory => "memory",
            Self::Stack => "stack",
            Self::Exception => "exception",
            Self::BadReturn => "bad_return",
            Self::Overloaded => "overloaded",
        }
    }

    /// Whether the runtime that produced this failure must be thrown away: after a limit hit
    /// QuickJS may be left full or half-unwound, so it is never reused.
    pub(crate) fn poisons_runtime(self) -> bool {
        matches!(self, Self::Timeout | Self::Memory | Self::Stack)
    }
}

impl std::fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which piece of personal information a password contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalInfoField {
    /// The user's email address or its local part.
    Email,
    /// A part of the user's name.
    Name,
    /// The tenant's (application's) name.
    Tenant,
}

impl PersonalInfoField {
    /// Stable name used in the `field` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Name => "name",
            Self::Tenant => "tenant",
        }
    }
}

/// One broken rule. Rendered to text by [`Violation::message_key`] in the user's locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Fewer code points than the policy's minimum.
    TooShort {
        /// The minimum, in code points.
        min: usize,
    },
    /// More code points than the policy's maximum (never truncated).
    TooLong {
        /// The maximum, in code points.
        max: usize,
    },
    /// The UTF-8 encoding is longer than the provider can hash without truncating.
    TooManyBytes {
        /// The byte limit (72 for bcrypt).
        max_bytes: usize,
    },
    /// Too few of the required character classes.
    MissingCharacterClasses {
        /// How many classes must appear.
        min: usize,
        /// The required classes that do not appear.
        missing: Vec<CharacterClass>,
    },
    /// A named regular-expression rule failed.
    Regex {
        /// The rule's name (the code is `regex:<name>`).
        name: String,
        /// The rule's own message key.
        message_key: String,
    },
    /// zxcvbn scored the password below the minimum.
    TooWeak {
        /// The required score (0–4).
        min_score: u8,
        /// The score obtained.
        score: u8,
    },
    /// The password contains the user's email, name or the tenant name.
    PersonalInfo {
        /// Which kind of information was found.
        field: PersonalInfoField,
    },
    /// The whole password is a common password or one of the tenant's banned words.
    Blocklisted,
    /// The tenant's JavaScript rule returned this key.
    Script {
        /// The key returned by `validate` (the code is `script:<key>`).
        key: String,
        /// Placeholder values returned with the key, in the order the script gave them.
        params: Vec<(String, String)>,
    },
    /// The JavaScript rule could not be evaluated, so the password is not accepted.
    ScriptUnavailable {
        /// What went wrong.
        reason: ScriptFailure,
    },
}

/// Message key of a violation without a text of its own (regex and script rules whose key
/// the catalog lacks): used by [`Violation::english`] as a fallback.
const RULE_FALLBACK_KEY: &str = "policy.rule";

/// Every built-in message key with its English template.
const ENGLISH: &[(&str, &str)] = &[
    ("policy.min_length", "Use at least {min} characters."),
    ("policy.max_length", "Use at most {max} characters."),
    (
        "policy.max_bytes",
        "This password is too long: it must fit in {max_bytes} bytes (accented letters, \
         symbols and emoji take 2 to 4 bytes each).",
    ),
    (
        "policy.character_classes",
        "Use at least {min_classes} of these kinds of characters: {classes}.",
    ),
    (
        "policy.strength",
        "This password is too easy to guess. Add another word or two that are not common.",
    ),
    (
        "policy.personal_info",
        "Do not use your email address, your name or the name of this service in your password.",
    ),
    (
        "policy.blocklist",
        "This password is too common or not allowed here. Choose another one.",
    ),
    (
        "policy.script_unavailable",
        "We could not check this password right now. Please try again in a moment.",
    ),
    (
        RULE_FALLBACK_KEY,
        "This password does not meet the rule \"{rule}\".",
    ),
];

/// Every built-in message key with its English template (placeholders like `{min}`). It is
/// the built-in `en` catalog; themes and tenants may override any entry.
pub fn default_english_messages() -> Vec<(&'static str, &'static str)> {
    ENGLISH.to_vec()
}

impl Violation {
    /// Stable machine code, e.g. `min_length`, `regex:<name>`, `script:<key>`.
    pub fn code(&self) -> String {
        match self {
            Self::TooShort { .. } => "min_length".into(),
            Self::TooLong { .. } => "max_length".into(),
            Self::TooManyBytes { .. } => "max_bytes".into(),
            Self::MissingCharacterClasses { .. } => "character_classes".into(),
            Self::Regex { name, .. } => format!("regex:{name}"),
            Self::TooWeak { .. } => "strength".into(),
            Self::PersonalInfo { .. } => "personal_info".into(),
            Self::Blocklisted => "blocklist".into(),
            Self::Script { key, .. } => format!("script:{key}"),
            Self::ScriptUnavailable { .. } => "script_unavailable".into(),
        }
    }

    /// Key into the theme and tenant message catalogs.
    pub fn message_key(&self) -> String {
        match self {
            Self::TooShort { .. } => "policy.min_length".into(),
            Self::TooLong { .. } => "policy.max_length".into(),
            Self::TooManyBytes { .. } => "policy.max_bytes".into(),
            Self::MissingCharacterClasses { .. } => "policy.character_classes".into(),
            Self::Regex { message_key, .. } => message_key.clone(),
            Self::TooWeak { .. } => "policy.strength".into(),
            Self::PersonalInfo { .. } => "policy.personal_info".into(),
            Self::Blocklisted => "policy.blocklist".into(),
            Self::Script { key, .. } => key.clone(),
            Self::ScriptUnavailable { .. } => "policy.script_unavailable".into(),
        }
    }

    /// Placeholder values for the message, e.g. `("min", "15")`.
    pub fn params(&self) -> Vec<(String, String)> {
        let one = |k: &str, v: String| vec![(k.to_owned(), v)];
        match self {
            Self::TooShort { min } => one("min", min.to_string()),
            Self::TooLong { max } => one("max", max.to_string()),
            Self::TooManyBytes { max_bytes } => one("max_bytes", max_bytes.to_string()),
            // `min_classes` is the name the theme catalogs use; `min` is kept as an alias.
            Self::MissingCharacterClasses { min, missing } => vec![
                ("min_classes".into(), min.to_string()),
                ("min".into(), min.to_string()),
                (
                    "classes".into(),
                    missing
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
            Self::Regex { name, .. } => one("rule", name.clone()),
            Self::TooWeak { min_score, score } => vec![
                ("min_score".into(), min_score.to_string()),
                ("score".into(), score.to_string()),
            ],
            Self::PersonalInfo { field } => one("field", field.as_str().into()),
            Self::Blocklisted => Vec::new(),
            Self::Script { params, .. } => params.clone(),
            Self::ScriptUnavailable { reason } => one("reason", reason.as_str().into()),
        }
    }

    /// Default English text with the parameters substituted. Regex and script rules have
    /// tenant-defined keys, so they fall back to a generic sentence naming the rule.
    pub fn english(&self) -> String {
        let key = self.message_key();
        let mut params = self.params();
        let template = match ENGLISH.iter().find(|(k, _)| *k == key) {
            Some((_, template)) => *template,
            None => {
                if !params.iter().any(|(k, _)| k == "rule") {
                    params.push(("rule".into(), self.message_key()));
                }
                ENGLISH
                    .iter()
                    .find(|(k, _)| *k == RULE_FALLBACK_KEY)
                    .map_or("{rule}", |(_, t)| *t)
            }
        };
        render(template, &params)
    }
}

/// Substitutes `{name}` placeholders; unknown placeholders stay as written. Values are
/// inserted literally (never re-scanned), so a value cannot inject another placeholder.
pub fn render(template: &str, params: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match params.iter().find(|(k, _)| k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
