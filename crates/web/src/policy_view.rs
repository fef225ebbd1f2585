//! A tenant's password policy as data for clients: the live-validation payload embedded in
//! the new-password page (shape in `docs/themes.md`) and served by
//! `GET /v1/apps/{client_id}/password-policy`, so browsers and native screens check with
//! the same rules and texts as the server (which stays the authority).

use std::collections::BTreeMap;

use passgate_policy::{CharacterClass, PolicySpec, Violation, spec::PROVIDER_MAX_BYTES};
use passgate_theme::Messages;
use poem_openapi::Object;
use serde::Serialize;

/// The localized text of `key` with `params`, or `None` when no catalog has it.
pub fn text(messages: &Messages, key: &str, params: &[(&str, &str)]) -> Option<String> {
    messages.format(key, params).ok()
}

/// The classes' names in the locale of `messages` (`policy.class.<name>`), comma-separated;
/// a name without a text stays the stable English name.
fn class_names<'a>(
    messages: &Messages,
    classes: impl IntoIterator<Item = &'a CharacterClass>,
) -> String {
    classes
        .into_iter()
        .map(|class| {
            text(messages, &format!("policy.class.{}", class.name()), &[])
                .unwrap_or_else(|| class.name().to_owned())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The localized text of one violation (the rule's own key, else `policy.rule` naming it).
pub fn violation_text(messages: &Messages, violation: &Violation) -> String {
    let key = violation.message_key();
    let owned = violation.params();
    let mut params: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The catalogs write the class count as `{min_classes}`; the policy crate calls it `min`.
    // Class names are shown in the reader's language.
    let localized_classes;
    if let Violation::MissingCharacterClasses { missing, .. } = violation {
        if let Some((_, min)) = owned.iter().find(|(k, _)| k == "min") {
            params.push(("min_classes", min.as_str()));
        }
        localized_classes = class_names(messages, missing);
        params.retain(|(k, _)| *k != "classes");
        params.push(("classes", localized_classes.as_str()));
    }
    text(messages, &key, &params)
        .or_else(|| text(messages, "policy.rule", &[("rule", &key)]))
        .unwrap_or_else(|| violation.english())
}

/// A composition rule as data.
#[derive(Debug, Clone, Serialize, Object)]
pub struct ClassRuleView {
    /// Class names: `lowercase`, `uppercase`, `digit`, `symbol`.
    pub classes: Vec<String>,
    /// How many of them must appear.
    pub min_classes: u32,
}

/// A regular-expression rule as data: the Rust `regex` pattern the server runs, and the
/// ECMAScript form with exactly its matches for live checks in browsers and apps.
#[derive(Debug, Clone, Serialize, Object)]
pub struct RegexRuleView {
    /// Stable name; violation code `regex:<name>`.
    pub name: String,
    /// The pattern (Rust `regex` syntax; the server's own).
    pub pattern: String,
    /// The same rule for JavaScript: `new RegExp(browser_pattern, 'u').test(password)`
    /// answers exactly as the server does (classes and case folding written out). Absent when
    /// there is no exact equivalent; the rule is then checked by the server only.
    pub browser_pattern: Option<String>,
    /// `true`: must match; `false`: must not match.
    pub must_match: bool,
    /// Localized text of the rule.
    pub message: String,
}

/// Extra values the script rule's `ctx` receives in the browser.
#[derive(Debug, Clone, Serialize, Object)]
pub struct ScriptContextView {
    /// Tenant id.
    pub tenant: String,
    /// Locale of the messages.
    pub locale: String,
}

/// A tenant's password rules for one locale: built-in rules as data, the JavaScript rule as
/// source, and every text a client needs. The same document drives the hosted page's live
/// feedback and native screens; the server checks again on submit.
#[derive(Debug, Clone, Serialize, Object)]
pub struct PolicyPayload {
    /// Fewest characters (Unicode code points).
    pub min_length: u32,
    /// Most characters.
    pub max_length: u32,
    /// Most UTF-8 bytes (the provider's bcrypt limit).
    pub max_bytes: u32,
    /// Composition rule, if any.
    pub character_classes: Option<ClassRuleView>,
    /// Regex rules in order.
    pub regex_rules: Vec<RegexRuleView>,
    /// Minimum zxcvbn score (checked by the server only).
    pub min_score: Option<u8>,
    /// Personal information is refused (server only).
    pub personal_info: bool,
    /// Common and banned passwords are refused (server only).
    pub blocklist_enabled: bool,
    /// Source of `function validate(password, ctx)`, if the tenant has one.
    pub script: Option<String>,
    /// Merged into the script's `ctx`.
    pub script_context: ScriptContextView,
    /// Localized texts by message key, placeholders filled (`policy.rule` keeps `{rule}`).
    pub messages: BTreeMap<String, String>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The payload for `spec` in the locale of `messages`; `tenant_messages` are the tenant's
/// own overrides in that locale (keys its script rule may return).
pub fn payload(
    spec: &PolicySpec,
    messages: &Messages,
    tenant: &str,
    tenant_messages: Option<&BTreeMap<String, String>>,
) -> PolicyPayload {
    let min = spec.min_length.to_string();
    let max = spec.max_length.to_string();
    let max_bytes = PROVIDER_MAX_BYTES.to_string();
    let mut texts: BTreeMap<String, String> = tenant_messages.cloned().unwrap_or_default();
    let mut put = |key: &str, params: &[(&str, &str)]| {
        if let Some(t) = text(messages, key, params) {
            texts.insert(key.to_owned(), t);
        }
    };
    put("policy.min_length", &[("min", &min)]);
    put("policy.max_length", &[("max", &max)]);
    put("policy.max_bytes", &[("max_bytes", &max_bytes)]);
    let classes = spec.character_classes.as_ref().map(|rule| {
        let names: Vec<String> = rule.classes.iter().map(|c| c.name().to_owned()).collect();
        let n = rule.min_classes.to_string();
        put(
            "policy.character_classes",
            &[
                ("min_classes", &n),
                ("min", &n),
                ("classes", &class_names(messages, &rule.classes)),
            ],
        );
        ClassRuleView {
            classes: names,
            min_classes: count(rule.min_classes),
        }
    });
    if let Some(score) = spec.min_strength {
        put("policy.strength", &[("min_score", &score.to_string())]);
    }
    if spec.ban_personal_info {
        put("policy.personal_info", &[]);
    }
    let blocklist = spec.common_blocklist || !spec.extra_blocklist.is_empty();
    if blocklist {
        put("policy.blocklist", &[]);
    }
    put("policy.script_unavailable", &[]);
    put("policy.mismatch", &[]);
    if let Some(raw) = messages.get("policy.rule") {
        texts.insert("policy.rule".into(), raw.to_owned());
    }
    let regex_rules = spec
        .regex_rules
        .iter()
        .map(|rule| RegexRuleView {
            name: rule.name.clone(),
            pattern: rule.pattern.clone(),
            browser_pattern: passgate_policy::browser_pattern(&rule.pattern),
            must_match: rule.must_match,
            message: text(messages, &rule.message_key, &[("rule", &rule.name)])
                .or_else(|| text(messages, "policy.rule", &[("rule", &rule.name)]))
                .unwrap_or_else(|| rule.name.clone()),
        })
        .collect();
    PolicyPayload {
        min_length: count(spec.min_length),
        max_length: count(spec.max_length),
        max_bytes: count(PROVIDER_MAX_BYTES),
        character_classes: classes,
        regex_rules,
        min_score: spec.min_strength,
        personal_info: spec.ban_personal_info,
        blocklist_enabled: blocklist,
        script: spec.script.as_ref().map(|s| s.source.clone()),
        script_context: ScriptContextView {
            tenant: tenant.to_owned(),
            locale: messages.locale().to_owned(),
        },
        messages: texts,
    }
}
