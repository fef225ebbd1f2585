//! The validated tenant configuration: every value within platform bounds, every default
//! filled in. Built only by [`crate::parse_tenant_yaml`] (the structs are `non_exhaustive`,
//! so other crates can read them but not assemble an unchecked one).

use std::collections::BTreeMap;

use passgate_policy::PolicySpec;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{
    ids::{ClientId, TenantId},
    values::{HexColor, LocaleTag, LogoUrl, Mailbox, RedirectUri, ThemeName, TokenTtl},
};

/// One tenant's configuration, validated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TenantConfig {
    /// Stable id.
    pub id: TenantId,
    /// Name shown to users.
    pub display_name: String,
    /// Client ids of the tenant's apps.
    pub client_ids: Vec<ClientId>,
    /// Theme name (existence is checked by the web crate, which owns themes).
    pub theme: ThemeName,
    /// Colours, logo, font and extra CSS.
    pub branding: Branding,
    /// Default and supported locales.
    pub locales: Locales,
    /// Message overrides per supported locale: key → text with `{name}` placeholders.
    pub messages: BTreeMap<LocaleTag, BTreeMap<String, String>>,
    /// Password rules, ready for `passgate_policy` to compile.
    pub password_policy: PolicySpec,
    /// Reset flow settings.
    pub reset: ResetSettings,
    /// Email settings.
    pub email: EmailSettings,
    /// Request limits.
    pub rate_limits: RateLimits,
}

impl TenantConfig {
    /// The password policy as plain data.
    pub fn policy_spec(&self) -> &PolicySpec {
        &self.password_policy
    }

    /// The tenant's override of message `key` in `locale`, if it has one (the theme's
    /// catalog supplies the rest).
    pub fn message(&self, locale: &LocaleTag, key: &str) -> Option<&str> {
        self.messages
            .get(locale)
            .and_then(|m| m.get(key))
            .map(String::as_str)
    }

    /// Message keys the configuration itself refers to (regex rules' messages), which the
    /// theme's catalog or `messages` must resolve in every supported locale.
    pub fn referenced_message_keys(&self) -> Vec<&str> {
        self.password_policy
            .regex_rules
            .iter()
            .map(|r| r.message_key.as_str())
            .collect()
    }
}

/// Colours, logo, font and extra CSS; `None` means "the theme's".
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Branding {
    /// Accent colour.
    pub primary_color: Option<HexColor>,
    /// Background colour.
    pub background_color: Option<HexColor>,
    /// Text colour.
    pub text_color: Option<HexColor>,
    /// Logo image.
    pub logo_url: Option<LogoUrl>,
    /// CSS font-family list, restricted to a safe alphabet.
    pub font_family: Option<String>,
    /// Extra CSS, screened for exfiltration constructs.
    pub custom_css: Option<String>,
}

/// Default and supported locales.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Locales {
    /// Used when a request names no supported locale.
    pub default: LocaleTag,
    /// Every locale offered, in the order written; contains `default`.
    pub supported: Vec<LocaleTag>,
}

impl Locales {
    /// The best supported locale for a requested tag: exact, then same language, then the
    /// default.
    pub fn negotiate(&self, requested: Option<&str>) -> &LocaleTag {
        let Some(requested) = requested else {
            return &self.default;
        };
        if let Some(exact) = self.supported.iter().find(|l| l.as_str() == requested) {
            return exact;
        }
        let language = requested.split('-').next().unwrap_or(requested);
        self.supported
            .iter()
            .find(|l| l.language().eq_ignore_ascii_case(language))
            .unwrap_or(&self.default)
    }
}

/// Which reset flow a tenant uses (see `docs/config-reference.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetMode {
    /// Passgate mints the token, sends the email and hosts the pages (Auth0 behind it).
    #[default]
    Hosted,
    /// Auth0 issues a password-change ticket; Passgate sends it in its branded email.
    Auth0Ticket,
    /// Auth0 sends its own email (`/dbconnections/change_password`).
    Auth0Email,
    /// Janrain emails a link with a code to Passgate's page.
    Janrain,
}

impl ResetMode {
    /// Whether Passgate itself sends the reset email in this mode.
    pub fn passgate_sends_email(self) -> bool {
        matches!(self, Self::Hosted | Self::Auth0Ticket)
    }

    /// Whether `reset.token_ttl` governs the token's lifetime in this mode.
    pub fn passgate_sets_ttl(self) -> bool {
        matches!(self, Self::Hosted | Self::Auth0Ticket)
    }
}

/// How the user receives the reset secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A link in the email.
    #[default]
    Link,
    /// A short code the user types into the app (mode `hosted` only).
    Code,
}

/// Reset flow settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResetSettings {
    /// Which flow.
    pub mode: ResetMode,
    /// Link or code.
    pub delivery: Delivery,
    /// Token lifetime, within the bounds for `delivery`.
    pub token_ttl: TokenTtl,
    /// Exact redirect targets after success.
    pub redirect_uris: Vec<RedirectUri>,
    /// End the user's sessions and revoke refresh tokens after Passgate sets the password.
    pub revoke_sessions: bool,
}

impl ResetSettings {
    /// The allowed redirect URI equal to `requested`, if any.
    pub fn redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|u| u.matches(requested))
    }
}

/// Email settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmailSettings {
    /// Sender; `None` means the platform's sender.
    pub from: Option<Mailbox>,
    /// Subject per supported locale; empty means the theme's subjects.
    pub subject: BTreeMap<LocaleTag, String>,
    /// Email the user after their password changed.
    pub password_changed_notice: bool,
}

/// Request limits (never above the platform ceilings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Reset requests per client IP per hour.
    pub requests_per_ip_per_hour: u32,
    /// Reset requests per account per hour.
    pub requests_per_account_per_hour: u32,
    /// Reset requests for the whole tenant per minute.
    pub requests_per_tenant_per_minute: u32,
}
