//! The live-validation payload as the new-password page embeds and lists it.
//!
//! The payload shape is documented in `docs/themes.md`; the web layer builds it from the
//! tenant's compiled policy. This module only embeds it safely and derives the static
//! rule list that pages show with JavaScript disabled.

use serde::Serialize;
use serde_json::Value as Json;

/// One line of the rule list on the new-password page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct RuleHint {
    /// `policy.min_length`, `regex:<name>`, …: the `data-rule` the script updates.
    pub code: String,
    /// Localized text from the payload's `messages`.
    pub text: String,
    /// Checked only by the server (strength, personal info, blocklist).
    pub server_only: bool,
}

/// The payload as JSON safe inside `<script type="application/json">`: `<`, `>`, `&` and
/// the JS line separators are `\u` escapes, so no value can close the element.
pub(crate) fn policy_json(policy: &Json) -> String {
    let raw = serde_json::to_string(policy).unwrap_or_else(|_| "null".to_owned());
    if !raw.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return raw;
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The longest upper length bound listed as a rule. Above it nobody reaches the limit by
/// typing (password managers generate at most 64 characters), so "At most 128 characters"
/// would be noise; the page's script still shows the rule if a paste goes past it.
pub(crate) const LISTED_MAX_LENGTH: u64 = 64;

/// The rules the payload turns on, in a stable order, each with its localized text.
/// A rule whose text is absent from `messages` is left out rather than shown as a key.
pub(crate) fn rule_hints(policy: &Json) -> Vec<RuleHint> {
    let messages = &policy["messages"];
    let text = |code: &str| messages[code].as_str().map(str::to_owned);
    let mut hints = Vec::new();
    let mut push = |code: String, text: Option<String>, server_only: bool| {
        if let Some(text) = text {
            hints.push(RuleHint {
                code,
                text,
                server_only,
            });
        }
    };
    for (field, code) in [
        ("min_length", "policy.min_length"),
        ("max_length", "policy.max_length"),
        ("character_classes", "policy.character_classes"),
    ] {
        let unreachable = field == "max_length"
            && policy[field]
                .as_u64()
                .is_some_and(|max| max > LISTED_MAX_LENGTH);
        if !policy[field].is_null() && !unreachable {
            push(code.to_owned(), text(code), false);
        }
    }
    for rule in policy["regex_rules"].as_array().into_iter().flatten() {
        if let Some(name) = rule["name"].as_str() {
            let message = rule["message"].as_str().map(str::to_owned);
            push(format!("regex:{name}"), message, false);
        }
    }
    for (field, code) in [
        ("min_score", "policy.strength"),
        ("personal_info", "policy.personal_info"),
        ("blocklist_enabled", "policy.blocklist"),
    ] {
        let on = !matches!(&policy[field], Json::Null | Json::Bool(false));
        if on {
            push(code.to_owned(), text(code), true);
        }
    }
    hints
}
