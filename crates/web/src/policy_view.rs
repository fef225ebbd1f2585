//! A tenant's password policy as data for clients: the live-validation payload embedded in
//! the new-password page (shape in `docs/themes.md`) and served by
//! `GET /v1/apps/{client_id}/password-policy`, so browsers and native screens check with
//! the same rules and texts as the server (which stays the authority).

use std::collections::BTreeMap;

use passgate_policy::{
    CharacterClass, PersonalInfoField, PolicySpec, Violation, spec::PROVIDER_MAX_BYTES,
};
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

/// The strength score `score` (zxcvbn, 0–4) in words: `policy.strength.level.<score>`
/// ("weak", "fair", "strong", …); the number when the catalog lacks the word.
pub fn strength_word(messages: &Messages, score: u8) -> String {
    text(messages, &format!("policy.strength.level.{score}"), &[])
        .unwrap_or_else(|| score.to_string())
}

/// The catalog key that names what a violation actually found, when it has a more precise
/// text than its rule's: the current strength in words, and the brand name told apart from
/// the user's own name or address.
fn precise_key(violation: &Violation) -> Option<&'static str> {
    match violation {
        Violation::TooWeak { .. } => Some("policy.strength.now"),
        Violation::PersonalInfo {
            field: PersonalInfoField::Tenant,
        } => Some("policy.personal_info.brand"),
        Violation::PersonalInfo { .. } => Some("policy.personal_info.account"),
        _ => None,
    }
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
    // Strength is said in words ("fair", "strong"), never as "3 of 4".
    let words;
    if let Violation::TooWeak { min_score, score } = violation {
        words = (
            strength_word(messages, *score),
            strength_word(messages, *min_score),
        );
        params.push(("strength", words.0.as_str()));
        params.push(("min_strength", words.1.as_str()));
    }
    precise_key(violation)
        .and_then(|precise| text(messages, precise, &params))
        .or_else(|| text(messages, &key, &params))
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
        let word = strength_word(messages, score);
        put(
            "policy.strength",
            &[("min_score", &score.to_string()), ("min_strength", &word)],
        );
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use passgate_theme::Themes;

    use super::*;

    /// Every built-in theme in every locale it ships.
    fn catalogs() -> Vec<Messages> {
        let themes = Themes::builtin().unwrap();
        let names: Vec<String> = themes.names().map(str::to_owned).collect();
        names
            .iter()
            .flat_map(|theme| {
                themes
                    .locales(theme)
                    .into_iter()
                    .map(|locale| Messages::new(&themes, theme, &locale, BTreeMap::new()).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn the_brand_name_and_personal_information_have_their_own_texts_in_every_locale() {
        for m in catalogs() {
            let brand = violation_text(
                &m,
                &Violation::PersonalInfo {
                    field: PersonalInfoField::Tenant,
                },
            );
            let email = violation_text(
                &m,
                &Violation::PersonalInfo {
                    field: PersonalInfoField::Email,
                },
            );
            let rule = m.get("policy.personal_info").unwrap();
            assert_ne!(brand, email, "{}", m.locale());
            assert_ne!(brand, rule, "{}: the brand text is the rule's", m.locale());
            assert_ne!(
                email,
                rule,
                "{}: the account text is the rule's",
                m.locale()
            );
        }
    }

    #[test]
    fn strength_is_said_in_words_in_every_locale() {
        for m in catalogs() {
            let weak = violation_text(
                &m,
                &Violation::TooWeak {
                    min_score: 3,
                    score: 1,
                },
            );
            assert!(!weak.contains(['1', '3', '4']), "{}: {weak}", m.locale());
            assert!(
                weak.contains(&strength_word(&m, 1)),
                "{}: {weak}",
                m.locale()
            );
            assert!(
                weak.contains(&strength_word(&m, 3)),
                "{}: {weak}",
                m.locale()
            );
            let words: std::collections::BTreeSet<String> =
                (0..=4).map(|s| strength_word(&m, s)).collect();
            assert_eq!(words.len(), 5, "{}: {words:?}", m.locale());
        }
    }

    #[test]
    fn the_rule_list_names_the_required_strength_in_words() {
        let themes = Themes::builtin().unwrap();
        let m = Messages::new(&themes, "default", "fr", BTreeMap::new()).unwrap();
        let spec = PolicySpec {
            min_strength: Some(3),
            max_length: 128,
            ..PolicySpec::default()
        };
        let payload = payload(&spec, &m, "t", None);
        let strength = &payload.messages["policy.strength"];
        assert!(
            strength.contains("fort") && !strength.contains('3'),
            "{strength}"
        );
    }
}
