//! `password_policy` → [`PolicySpec`]: platform floors, rule names and message keys, script
//! limits, and the NIST/ASVS warnings about composition rules. Whether regexes and the
//! script actually compile (and the script passes its `examples:`) is decided by
//! `passgate_policy` when [`crate::parse_tenant_yaml`] compiles the spec.

use std::collections::BTreeSet;

use passgate_policy::{
    CharacterClass, CharacterClassRule, MAX_DECLARED_PARAMS, MAX_PARAM_VALUE_CHARS,
    MAX_PARAM_VALUES, PolicySpec, RegexRule, ScriptExample, ScriptLimits, ScriptParam, ScriptRule,
    spec::{DEFAULT_MAX_LENGTH, DEFAULT_MIN_LENGTH, MAX_LENGTH_FLOOR, MIN_LENGTH_FLOOR},
};

use super::{Collector, check_message_key};
use crate::{
    limits,
    positions::index,
    raw::{RawCharacterClass, RawCharacterClasses, RawLiteral, RawPasswordPolicy, RawScript},
};

const COMPOSITION_WARNING: &str = "composition rules are not NIST SP 800-63B / ASVS 6.2.5 conformant: they annoy users without making passwords stronger; prefer length, the blocklist and min_strength";

/// Validates the policy section; the default policy when the section is absent. `tenant`
/// owns the script (its cache key and share of the script pool).
pub(super) fn policy(
    c: &mut Collector<'_>,
    raw: Option<RawPasswordPolicy>,
    tenant: &str,
) -> PolicySpec {
    let Some(raw) = raw else {
        return PolicySpec::default();
    };
    let min_length = match raw.min_length {
        None => DEFAULT_MIN_LENGTH,
        Some(n) if n < MIN_LENGTH_FLOOR as i64 => {
            c.error(
                "password_policy.min_length",
                format!(
                    "must be at least {MIN_LENGTH_FLOOR} (the platform floor, NIST SP 800-63B; {DEFAULT_MIN_LENGTH} is recommended), found {n}"
                ),
            );
            DEFAULT_MIN_LENGTH
        }
        Some(n) if n > limits::MAX_LENGTH_CEILING as i64 => {
            c.error(
                "password_policy.min_length",
                format!("must be at most {} (found {n})", limits::MAX_LENGTH_CEILING),
            );
            DEFAULT_MIN_LENGTH
        }
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(DEFAULT_MIN_LENGTH);
            if n < DEFAULT_MIN_LENGTH {
                c.warn(
                    "password_policy.min_length",
                    format!("below {DEFAULT_MIN_LENGTH}, the NIST SP 800-63B-4 minimum for passwords used without a second factor"),
                );
            }
            n
        }
    };
    let max_length = c.bounded(
        "password_policy.max_length",
        raw.max_length,
        DEFAULT_MAX_LENGTH as i64,
        MAX_LENGTH_FLOOR as i64,
        limits::MAX_LENGTH_CEILING as i64,
        " (at least 64 characters must always be accepted)",
    );
    let max_length = usize::try_from(max_length).unwrap_or(DEFAULT_MAX_LENGTH);
    if max_length < min_length {
        c.error(
            "password_policy.max_length",
            format!("must be at least min_length ({min_length})"),
        );
    }

    let character_classes = raw
        .character_classes
        .and_then(|cc| character_classes(c, cc));
    let regex_rules = regex_rules(c, &raw.regex_rules);

    let min_strength = raw
        .min_strength
        .map(|s| {
            c.bounded(
                "password_policy.min_strength",
                Some(s),
                0,
                0,
                4,
                " (zxcvbn scores)",
            )
        })
        .map(|s: i64| u8::try_from(s).unwrap_or(0));
    let history_depth = c.bounded(
        "password_policy.history",
        raw.history,
        0,
        0,
        i64::from(limits::MAX_HISTORY),
        "",
    );

    if raw.blocklist.len() > limits::MAX_BLOCKLIST_WORDS {
        c.error(
            "password_policy.blocklist",
            format!("at most {} words", limits::MAX_BLOCKLIST_WORDS),
        );
    }
    for (i, word) in raw.blocklist.iter().enumerate() {
        let n = word.chars().count();
        if n == 0 || n > limits::MAX_BLOCKLIST_WORD_CHARS || word.trim().is_empty() {
            c.error(
                &index("password_policy.blocklist", i),
                format!(
                    "a blocklist word is 1 to {} characters",
                    limits::MAX_BLOCKLIST_WORD_CHARS
                ),
            );
        }
    }
    let script = raw.script.map(|s| script(c, s, tenant));
    if script.is_some() {
        c.warn(
            "password_policy.script",
            "a JavaScript rule can impose composition rules, which are not NIST SP 800-63B / ASVS 6.2.5 conformant: make sure it only rejects guessable passwords",
        );
    }

    PolicySpec {
        min_length,
        max_length,
        character_classes,
        regex_rules,
        min_strength,
        ban_personal_info: raw.ban_personal_info.unwrap_or(true),
        common_blocklist: raw.common_blocklist.unwrap_or(true),
        extra_blocklist: raw.blocklist,
        history_depth: u8::try_from(history_depth).unwrap_or(0),
        script,
    }
}

fn character_classes(
    c: &mut Collector<'_>,
    raw: RawCharacterClasses,
) -> Option<CharacterClassRule> {
    let path = "password_policy.character_classes";
    c.warn(path, COMPOSITION_WARNING);
    let mut classes = Vec::new();
    for (i, class) in raw.require.iter().enumerate() {
        let class = match class {
            RawCharacterClass::Lowercase => CharacterClass::Lowercase,
            RawCharacterClass::Uppercase => CharacterClass::Uppercase,
            RawCharacterClass::Digit => CharacterClass::Digit,
            RawCharacterClass::Symbol => CharacterClass::Symbol,
        };
        if classes.contains(&class) {
            c.error(
                &index("password_policy.character_classes.require", i),
                format!("{} is listed twice", class.name()),
            );
        } else {
            classes.push(class);
        }
    }
    if classes.is_empty() {
        c.error(
            "password_policy.character_classes.require",
            "list at least one class",
        );
        return None;
    }
    let all = i64::try_from(classes.len()).unwrap_or(4);
    let min_classes = c.bounded(
        "password_policy.character_classes.min_classes",
        raw.min_classes,
        all,
        1,
        all,
        " (the number of classes listed)",
    );
    Some(CharacterClassRule {
        classes,
        min_classes: usize::try_from(min_classes).unwrap_or(1),
    })
}

fn regex_rules(c: &mut Collector<'_>, raw: &[crate::raw::RawRegexRule]) -> Vec<RegexRule> {
    if raw.len() > limits::MAX_REGEX_RULES {
        c.error(
            "password_policy.regex_rules",
            format!("at most {} regex rules", limits::MAX_REGEX_RULES),
        );
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, rule) in raw.iter().enumerate() {
        let path = index("password_policy.regex_rules", i);
        let name_ok = !rule.name.is_empty()
            && rule.name.len() <= 40
            && rule
                .name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !name_ok {
            c.error(
                &format!("{path}.name"),
                "a rule name is 1 to 40 lowercase letters, digits or '_' (it becomes the code regex:<name>)",
            );
        } else if !names.insert(rule.name.as_str()) {
            c.error(
                &format!("{path}.name"),
                format!("another rule is already named {:?}", rule.name),
            );
        }
        if rule.pattern.is_empty() || rule.pattern.chars().count() > limits::MAX_REGEX_CHARS {
            c.error(
                &format!("{path}.pattern"),
                format!("a pattern is 1 to {} characters", limits::MAX_REGEX_CHARS),
            );
        }
        if let Err(e) = check_message_key(&rule.message) {
            c.error(&format!("{path}.message"), e.0);
        }
        if rule.must_match {
            c.warn(&format!("{path}.must_match"), COMPOSITION_WARNING);
        }
        out.push(RegexRule {
            name: rule.name.clone(),
            pattern: rule.pattern.clone(),
            must_match: rule.must_match,
            message_key: rule.message.clone(),
        });
    }
    out
}

fn script(c: &mut Collector<'_>, raw: RawScript, tenant: &str) -> ScriptRule {
    let path = "password_policy.script";
    if raw.source.trim().is_empty() {
        c.error("password_policy.script.source", "the script is empty");
    } else if raw.source.len() > limits::MAX_SCRIPT_BYTES {
        c.error(
            "password_policy.script.source",
            format!(
                "a script is at most {} bytes (found {})",
                limits::MAX_SCRIPT_BYTES,
                raw.source.len()
            ),
        );
    }
    if raw.examples.len() > limits::MAX_SCRIPT_EXAMPLES {
        c.error(
            &format!("{path}.examples"),
            format!("at most {} examples", limits::MAX_SCRIPT_EXAMPLES),
        );
    }
    let defaults = ScriptLimits::default();
    let timeout_ms = c.bounded(
        "password_policy.script.timeout_ms",
        raw.timeout_ms,
        i64::try_from(defaults.timeout_ms).unwrap_or(50),
        i64::try_from(limits::SCRIPT_TIMEOUT_MS.0).unwrap_or(1),
        i64::try_from(limits::SCRIPT_TIMEOUT_MS.1).unwrap_or(100),
        " milliseconds",
    );
    let memory_kb = c.bounded(
        "password_policy.script.memory_kb",
        raw.memory_kb,
        i64::try_from(defaults.memory_bytes / 1024).unwrap_or(16384),
        i64::try_from(limits::SCRIPT_MEMORY_KB.0).unwrap_or(1024),
        i64::try_from(limits::SCRIPT_MEMORY_KB.1).unwrap_or(32768),
        " KiB",
    );
    let stack_kb = c.bounded(
        "password_policy.script.stack_kb",
        raw.stack_kb,
        i64::try_from(defaults.stack_bytes / 1024).unwrap_or(256),
        i64::try_from(limits::SCRIPT_STACK_KB.0).unwrap_or(64),
        i64::try_from(limits::SCRIPT_STACK_KB.1).unwrap_or(1024),
        " KiB",
    );
    let examples = raw
        .examples
        .into_iter()
        .map(|e| ScriptExample {
            password: e.password,
            expect: e.expect,
        })
        .collect();
    let params = script_params(c, raw.params);
    ScriptRule {
        tenant: tenant.to_owned(),
        source: raw.source,
        params,
        examples,
        limits: ScriptLimits {
            timeout_ms: u64::try_from(timeout_ms).unwrap_or(defaults.timeout_ms),
            memory_bytes: usize::try_from(memory_kb).unwrap_or(16384) * 1024,
            stack_bytes: usize::try_from(stack_kb).unwrap_or(256) * 1024,
        },
    }
}

/// `script.params`: names like message keys, each with 1 to [`MAX_PARAM_VALUES`] literal
/// values of 1 to [`MAX_PARAM_VALUE_CHARS`] characters, kept as the text a message shows.
fn script_params(
    c: &mut Collector<'_>,
    raw: std::collections::BTreeMap<String, Vec<RawLiteral>>,
) -> Vec<ScriptParam> {
    let path = "password_policy.script.params";
    if raw.len() > MAX_DECLARED_PARAMS {
        c.error(path, format!("at most {MAX_DECLARED_PARAMS} params"));
    }
    let mut out = Vec::new();
    for (name, values) in raw {
        let at = crate::positions::key(path, &name);
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !name_ok {
            c.error(
                &at,
                "a param name is 1 to 64 ASCII letters, digits, '_', '.' or '-' (the {placeholder} it fills)",
            );
        }
        if values.is_empty() || values.len() > MAX_PARAM_VALUES {
            c.error(
                &at,
                format!("list 1 to {MAX_PARAM_VALUES} values this param may take"),
            );
        }
        let mut texts: Vec<String> = Vec::new();
        for (i, value) in values.into_iter().enumerate() {
            let text = match value {
                RawLiteral::Integer(n) => n.to_string(),
                RawLiteral::Number(n) if n.is_finite() => n.to_string(),
                RawLiteral::Number(_) => String::new(),
                RawLiteral::Text(s) => s,
            };
            let n = text.chars().count();
            if n == 0 || n > MAX_PARAM_VALUE_CHARS || text.chars().any(char::is_control) {
                c.error(
                    &index(&at, i),
                    format!(
                        "a param value is a finite number or a one-line text of 1 to {MAX_PARAM_VALUE_CHARS} characters"
                    ),
                );
            } else if !texts.contains(&text) {
                texts.push(text);
            }
        }
        out.push(ScriptParam {
            name,
            values: texts,
        });
    }
    out
}
