//! Startup and config-write checks: every template of a theme renders in every locale a
//! tenant supports, with every message key resolving.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::branding::Branding;
use crate::context::{Email, EmailContext, FieldError, HiddenField, Page, PageContext};
use crate::error::{MissingMessage, ThemeError};
use crate::messages::Messages;
use crate::themes::Themes;

/// Message keys the policy crate's violations use (`policy.rule` is its fallback for a
/// regex or script rule whose own key is missing, with `{rule}`); every supported locale
/// must resolve them.
pub const POLICY_KEYS: [&str; 22] = [
    "policy.min_length",
    "policy.max_length",
    "policy.max_bytes",
    "policy.character_classes",
    "policy.class.lowercase",
    "policy.class.uppercase",
    "policy.class.digit",
    "policy.class.symbol",
    "policy.strength",
    "policy.strength.level.0",
    "policy.strength.level.1",
    "policy.strength.level.2",
    "policy.strength.level.3",
    "policy.strength.level.4",
    "policy.strength.now",
    "policy.personal_info",
    "policy.personal_info.account",
    "policy.personal_info.brand",
    "policy.blocklist",
    "policy.script_unavailable",
    "policy.mismatch",
    "policy.rule",
];

impl Themes {
    /// Renders every page and email of `theme` for every locale in `supported_locales`,
    /// with the tenant's `overrides_by_locale`, and checks the [`POLICY_KEYS`].
    ///
    /// Every missing key of every locale comes back at once in
    /// [`ThemeError::MissingMessages`]; other failures (unknown theme, a template that
    /// does not render) come back as their own variant.
    pub fn check_tenant(
        &self,
        theme: &str,
        display_name: &str,
        supported_locales: &[String],
        overrides_by_locale: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), ThemeError> {
        let mut missing = BTreeSet::new();
        for locale in supported_locales {
            let overrides = overrides_by_locale.get(locale).cloned().unwrap_or_default();
            let messages = Messages::new(self, theme, locale, overrides)?;
            for key in POLICY_KEYS {
                if messages.get(key).is_none() {
                    missing.insert(MissingMessage {
                        theme: theme.to_owned(),
                        locale: locale.clone(),
                        key: key.to_owned(),
                    });
                }
            }
            missing.extend(self.render_all(theme, display_name, &messages)?);
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ThemeError::MissingMessages(missing.into_iter().collect()))
        }
    }

    /// The message keys each template of `theme` uses (pages by file name, emails as
    /// `email/<name>`), found by rendering with empty catalogs. For docs and tooling.
    pub fn message_keys(
        &self,
        theme: &str,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, ThemeError> {
        let empty = Messages::empty(theme);
        let mut keys = BTreeMap::new();
        for page in Page::ALL {
            let ctx = sample_page(&empty, "App");
            let found = missing_of(self.render_page(theme, page, &ctx))?;
            keys.insert(page.template().to_owned(), found);
        }
        for email in Email::ALL {
            let ctx = sample_email(&empty, "App");
            let found = missing_of(self.render_email(theme, email, &ctx).map(|_| ()))?;
            keys.insert(format!("email/{}", email.name()), found);
        }
        Ok(keys)
    }

    /// Renders everything in a full and a minimal context; returns the keys that missed.
    fn render_all(
        &self,
        theme: &str,
        display_name: &str,
        messages: &Messages,
    ) -> Result<BTreeSet<MissingMessage>, ThemeError> {
        let mut missing = BTreeSet::new();
        let full = sample_page(messages, display_name);
        let minimal = PageContext {
            restart_url: None,
            continue_url: None,
            email: None,
            errors: Vec::new(),
            policy: None,
            request_id: None,
            retry_at: None,
            secure_origin: true,
            ..full.clone()
        };
        for page in Page::ALL {
            for ctx in [&full, &minimal] {
                collect(self.render_page(theme, page, ctx), &mut missing)?;
            }
        }
        let email = sample_email(messages, display_name);
        for kind in Email::ALL {
            collect(
                self.render_email(theme, kind, &email).map(|_| ()),
                &mut missing,
            )?;
        }
        Ok(missing)
    }
}

fn collect<T>(
    result: Result<T, ThemeError>,
    missing: &mut BTreeSet<MissingMessage>,
) -> Result<(), ThemeError> {
    match result {
        Ok(_) => Ok(()),
        Err(ThemeError::MissingMessages(found)) => {
            missing.extend(found);
            Ok(())
        }
        Err(other) => Err(other),
    }
}

fn missing_of<T>(result: Result<T, ThemeError>) -> Result<BTreeSet<String>, ThemeError> {
    let mut missing = BTreeSet::new();
    collect(result, &mut missing)?;
    Ok(missing.into_iter().map(|m| m.key).collect())
}

/// A page context that exercises every optional section of the templates.
fn sample_page(messages: &Messages, display_name: &str) -> PageContext {
    PageContext {
        messages: messages.clone(),
        display_name: display_name.to_owned(),
        branding: Branding {
            logo_url: Some("https://example.com/logo.svg".to_owned()),
            ..Branding::default()
        },
        csp_nonce: "check-nonce".to_owned(),
        csrf_token: "check-csrf".to_owned(),
        form_action: "/reset".to_owned(),
        restart_url: Some("/reset".to_owned()),
        continue_url: Some("https://example.com/done".to_owned()),
        static_prefix: "/static".to_owned(),
        hidden_fields: vec![HiddenField {
            name: "client_id".to_owned(),
            value: "check".to_owned(),
        }],
        email: Some("user@example.com".to_owned()),
        errors: vec![FieldError {
            code: "policy.min_length".to_owned(),
            message: "Too short".to_owned(),
        }],
        policy: Some(json!({
            "min_length": 12, "max_length": 128, "max_bytes": 72,
            "character_classes": {"classes": ["lower", "upper", "digit", "symbol"], "min_classes": 3},
            "regex_rules": [{"name": "no_app", "pattern": "app", "must_match": false, "message": "No app name"}],
            "min_score": 3, "personal_info": true, "blocklist_enabled": true,
            "script": "function validate(p, c) { return []; }",
            "messages": {"policy.min_length": "At least 12 characters", "policy.max_length": "At most 128",
                "policy.character_classes": "3 of 4 kinds", "policy.strength": "Hard to guess",
                "policy.personal_info": "No personal info", "policy.blocklist": "Not a common password"}
        })),
        request_id: Some("req-check".to_owned()),
        retry_at: Some("23:45 UTC".to_owned()),
        secure_origin: true,
    }
}

fn sample_email(messages: &Messages, display_name: &str) -> EmailContext {
    EmailContext {
        messages: messages.clone(),
        display_name: display_name.to_owned(),
        branding: Branding::default(),
        action_url: Some("https://example.com/reset/confirm#check".to_owned()),
        code: Some("12345678".to_owned()),
        expires_in_minutes: Some(30),
        request_id: Some("req-check".to_owned()),
    }
}
