//! Startup checks: every template renders in every theme and locale; misses are named.

use crate::common;

use std::collections::BTreeMap;

use common::{LOCALES, THEMES, themes};
use passgate_theme::{MissingMessage, POLICY_KEYS, ThemeError};

fn locales() -> Vec<String> {
    LOCALES.iter().map(|l| (*l).to_owned()).collect()
}

#[test]
fn every_theme_renders_every_template_in_every_locale() {
    let themes = themes();
    for theme in THEMES {
        themes
            .check_tenant(theme, "Acme", &locales(), &BTreeMap::new())
            .unwrap_or_else(|e| panic!("{theme}: {e}"));
    }
}

#[test]
fn every_default_catalog_has_the_policy_keys() {
    let themes = themes();
    for locale in LOCALES {
        let messages = common::messages(&themes, "default", locale);
        for key in POLICY_KEYS {
            assert!(messages.get(key).is_some(), "{locale} lacks {key}");
        }
    }
}

#[test]
fn an_unsupported_locale_reports_every_missing_key_with_theme_and_locale() {
    let themes = themes();
    let err = themes
        .check_tenant("bank", "Acme", &["it".to_owned()], &BTreeMap::new())
        .unwrap_err();
    let ThemeError::MissingMessages(missing) = err else {
        panic!("expected missing messages, got {err}");
    };
    let expected = |key: &str| MissingMessage {
        theme: "bank".to_owned(),
        locale: "it".to_owned(),
        key: key.to_owned(),
    };
    for key in [
        "request.title",
        "bank.secure",
        "email.reset_link.subject",
        "policy.min_length",
    ] {
        assert!(missing.contains(&expected(key)), "{key} not reported");
    }
    let shown = ThemeError::MissingMessages(missing).to_string();
    assert!(shown.contains("theme `bank`, locale `it`: no message for key `bank.secure`"));
}

#[test]
fn tenant_overrides_can_complete_a_locale() {
    let themes = themes();
    // Everything the templates and the policy need, supplied by the tenant for `it`.
    let Err(ThemeError::MissingMessages(missing)) =
        themes.check_tenant("default", "Acme", &["it".to_owned()], &BTreeMap::new())
    else {
        panic!("`it` has no catalog");
    };
    let overrides: BTreeMap<String, String> = missing
        .into_iter()
        .map(|m| (m.key, "testo".to_owned()))
        .collect();
    let by_locale = BTreeMap::from([("it".to_owned(), overrides)]);
    themes
        .check_tenant("default", "Acme", &["it".to_owned()], &by_locale)
        .unwrap();
}

#[test]
fn unknown_theme_is_an_error() {
    let err = themes()
        .check_tenant("nope", "Acme", &locales(), &BTreeMap::new())
        .unwrap_err();
    assert!(matches!(err, ThemeError::UnknownTheme(name) if name == "nope"));
}

#[test]
fn message_keys_lists_what_each_template_needs() {
    let keys = themes().message_keys("fitness").unwrap();
    assert!(keys["request.html"].contains("request.email_label"));
    assert!(
        keys["request.html"].contains("hero.title"),
        "fitness layout keys count too"
    );
    assert!(keys["email/reset_link"].contains("email.reset_link.subject"));
    assert_eq!(keys.len(), 15, "11 pages and 4 emails");
}
