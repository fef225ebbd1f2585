//! Shared fixtures: the repository's themes and representative contexts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use passgate_theme::{Branding, EmailContext, HiddenField, Messages, PageContext, Themes};
use serde_json::json;

pub const THEMES: [&str; 3] = ["default", "fitness", "bank"];
pub const LOCALES: [&str; 4] = ["en", "fr", "de", "es"];
pub const LINK: &str = "https://reset.example.com/reset/confirm#tok_AbC123";

pub use passgate_testkit::paths::themes_dir;

pub fn themes() -> Themes {
    Themes::load(&themes_dir()).expect("the repository's themes load")
}

pub fn messages(themes: &Themes, theme: &str, locale: &str) -> Messages {
    Messages::new(themes, theme, locale, BTreeMap::new()).unwrap()
}

pub fn policy() -> serde_json::Value {
    json!({
        "min_length": 12, "max_length": 64, "max_bytes": 72,
        "character_classes": {"classes": ["lowercase", "uppercase", "digit", "symbol"], "min_classes": 3},
        "regex_rules": [{"name": "no_acme", "pattern": "(?i)acme", "must_match": false, "message": "Must not contain the app name"}],
        "min_score": 3, "personal_info": true, "blocklist_enabled": true,
        "script": "function validate(p, ctx) { return p.includes('1234') ? ['rules.no_sequence'] : []; }",
        "messages": {
            "policy.min_length": "At least 12 characters",
            "policy.max_length": "At most 64 characters",
            "policy.character_classes": "3 of: lowercase, uppercase, digit, symbol",
            "policy.strength": "Hard to guess",
            "policy.personal_info": "No name or email",
            "policy.blocklist": "Not a common password",
            "rules.no_sequence": "No 1234"
        }
    })
}

pub fn page(themes: &Themes, theme: &str, locale: &str) -> PageContext {
    PageContext {
        messages: messages(themes, theme, locale),
        display_name: "Acme Fit".to_owned(),
        branding: Branding::default(),
        csp_nonce: "NONCE-r4nd0m".to_owned(),
        csrf_token: "CSRF-t0k3n".to_owned(),
        form_action: "/reset/confirm?client_id=acme".to_owned(),
        restart_url: Some("/reset?client_id=acme".to_owned()),
        continue_url: Some("acmefit://reset-done".to_owned()),
        static_prefix: "/static".to_owned(),
        hidden_fields: vec![HiddenField {
            name: "client_id".to_owned(),
            value: "acme".to_owned(),
        }],
        email: None,
        errors: Vec::new(),
        policy: Some(policy()),
        request_id: Some("req-42".to_owned()),
        retry_at: None,
        secure_origin: true,
    }
}

pub fn email(themes: &Themes, theme: &str, locale: &str) -> EmailContext {
    EmailContext {
        messages: messages(themes, theme, locale),
        display_name: "Acme Fit".to_owned(),
        branding: Branding::default(),
        action_url: Some(LINK.to_owned()),
        code: Some("48213077".to_owned()),
        expires_in_minutes: Some(30),
        request_id: Some("req-42".to_owned()),
    }
}
