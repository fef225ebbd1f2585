//! The tenant YAML exactly as written: every key optional where it has a default, strings
//! where a newtype will be parsed later (so *all* bad values are reported, not just the
//! first), and `deny_unknown_fields` everywhere so a typo is an error, not a silent default.
//!
//! These structs also generate the JSON Schema (`passgate schema`); their doc comments are
//! what product owners see when they hover over a key in their editor.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::{Delivery, ResetMode};

/// One tenant (one app, or a family of apps sharing a look and a policy) of Passgate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Passgate tenant")]
pub struct RawTenant {
    /// Stable id: lowercase letters, digits and `-`, starting with a letter (e.g. `acme-shop`).
    #[schemars(regex(pattern = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub id: String,
    /// Name shown to users on pages and in emails.
    #[schemars(length(min = 1, max = 80))]
    pub display_name: String,
    /// Client ids of the apps that belong to this tenant (`?client_id=…`); registered by
    /// `passgate tenant import`.
    #[serde(default)]
    #[schemars(inner(regex(pattern = r"^[A-Za-z0-9._-]{1,128}$")), length(max = 50))]
    pub client_ids: Vec<String>,
    /// Theme (templates and default messages). Default: `default`.
    #[schemars(regex(pattern = r"^[a-z0-9-]{1,32}$"))]
    pub theme: Option<String>,
    /// Colours, logo, font and extra CSS layered over the theme.
    pub branding: Option<RawBranding>,
    /// Languages offered. Default: `{ default: en, supported: [en] }`.
    pub locales: Option<RawLocales>,
    /// Message overrides per locale: `{ fr: { "policy.min_length": "Au moins {min} caractères" } }`.
    /// `{name}` placeholders are replaced (HTML-escaped), never evaluated.
    #[serde(default)]
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
    /// Password rules. Default: NIST SP 800-63B-4 (15 characters, blocklist, no composition).
    pub password_policy: Option<RawPasswordPolicy>,
    /// How a reset is carried out.
    pub reset: Option<RawReset>,
    /// The reset email Passgate sends (modes `hosted` and `auth0_ticket`).
    pub email: Option<RawEmail>,
    /// Request limits, at most the platform ceilings.
    pub rate_limits: Option<RawRateLimits>,
}

/// Colours, logo, font and extra CSS. Every key is optional; the theme supplies the rest.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Branding")]
pub struct RawBranding {
    /// Accent colour of buttons and links: `#rgb` or `#rrggbb`.
    #[schemars(regex(pattern = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"))]
    pub primary_color: Option<String>,
    /// Page background colour: `#rgb` or `#rrggbb`.
    #[schemars(regex(pattern = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"))]
    pub background_color: Option<String>,
    /// Text colour: `#rgb` or `#rrggbb`.
    #[schemars(regex(pattern = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"))]
    pub text_color: Option<String>,
    /// Logo image: an `https://` URL, or a theme asset the gateway serves itself,
    /// `/static/<theme>/<file>` (shown on pages; mails show the display name instead).
    #[schemars(regex(pattern = r"^(https://|/static/)"), length(max = 2048))]
    pub logo_url: Option<String>,
    /// CSS font-family list, e.g. `Inter, sans-serif` (letters, digits, spaces, `,`, `-`, quotes).
    #[schemars(regex(pattern = r#"^[A-Za-z0-9 ,'"-]{1,200}$"#))]
    pub font_family: Option<String>,
    /// Extra CSS, at most 8 KiB, without `url(`, `@import`, `expression(`, `</`, `\`
    /// escapes or attribute selectors (they can leak a reset token).
    #[schemars(length(max = 8192))]
    pub custom_css: Option<String>,
}

/// Languages offered.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Locales")]
pub struct RawLocales {
    /// Locale used when the request names none that is supported (`en`, `fr`, `pt-BR`).
    #[schemars(regex(pattern = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"))]
    pub default: String,
    /// Every locale offered; must include `default`.
    #[schemars(
        inner(regex(pattern = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")),
        length(min = 1, max = 30)
    )]
    pub supported: Vec<String>,
}

/// Password rules. Unset keys take the platform defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PasswordPolicy")]
pub struct RawPasswordPolicy {
    /// Fewest characters (code points). Default 15; never below 8.
    #[schemars(range(min = 8, max = 1024))]
    pub min_length: Option<i64>,
    /// Most characters; longer passwords are rejected, never truncated. Default 128; at least 64.
    #[schemars(range(min = 64, max = 1024))]
    pub max_length: Option<i64>,
    /// Composition rule (opt-in; NIST and ASVS advise against it: validation warns).
    pub character_classes: Option<RawCharacterClasses>,
    /// Named regular-expression rules (Rust `regex` syntax: linear time, no look-around).
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub regex_rules: Vec<RawRegexRule>,
    /// Minimum zxcvbn strength score, 0 (anything) to 4 (very strong).
    #[schemars(range(min = 0, max = 4))]
    pub min_strength: Option<i64>,
    /// Reject passwords equal to or containing the user's email local part, name or the
    /// tenant name. Default true.
    pub ban_personal_info: Option<bool>,
    /// Reject the bundled list of common passwords. Default true.
    pub common_blocklist: Option<bool>,
    /// Extra words this tenant forbids (whole password, case-insensitive).
    #[serde(default)]
    #[schemars(length(max = 1000), inner(length(min = 1, max = 128)))]
    pub blocklist: Vec<String>,
    /// How many previous passwords may not be reused (0–24). Default 0.
    #[schemars(range(min = 0, max = 24))]
    pub history: Option<i64>,
    /// A JavaScript rule: `function validate(password, ctx) { return [] }`.
    pub script: Option<RawScript>,
}

/// A character-class composition rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CharacterClasses")]
pub struct RawCharacterClasses {
    /// The classes that count.
    #[schemars(length(min = 1, max = 4))]
    pub require: Vec<RawCharacterClass>,
    /// How many of them must appear. Default: all of them.
    #[schemars(range(min = 1, max = 4))]
    pub min_classes: Option<i64>,
}

/// A character class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CharacterClass")]
pub enum RawCharacterClass {
    /// A lowercase letter.
    Lowercase,
    /// An uppercase letter.
    Uppercase,
    /// A decimal digit.
    Digit,
    /// Anything else: punctuation, symbols, spaces, emoji.
    Symbol,
}

/// A named regular-expression rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RegexRule")]
pub struct RawRegexRule {
    /// Stable name; the violation code is `regex:<name>`.
    #[schemars(regex(pattern = r"^[a-z0-9_]{1,40}$"))]
    pub name: String,
    /// The pattern.
    #[schemars(length(min = 1, max = 1000))]
    pub pattern: String,
    /// `true`: the password must match (a composition rule: validation warns);
    /// `false`: it must not. Default false.
    #[serde(default)]
    pub must_match: bool,
    /// Message key shown when the rule is violated (define it under `messages`).
    #[schemars(regex(pattern = r"^[a-z0-9_][a-z0-9_.:-]{0,99}$"))]
    pub message: String,
}

/// The tenant's JavaScript rule, run in a sandbox (no I/O, memory and time caps).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Script")]
pub struct RawScript {
    /// The source; must define `function validate(password, ctx)` returning message keys
    /// or `{key, params}` objects. At most 16 KiB.
    #[schemars(length(min = 1, max = 16384))]
    pub source: String,
    /// The placeholders a returned violation may fill (`{key: "k", params: {max: 3}}`):
    /// each name with every value it may take, as literals (strings or numbers). A returned
    /// param not listed here, or with a value not listed for it, fails the check closed, so
    /// nothing the script computes from a password or `ctx` can reach a message. At most 8
    /// names, each with 1 to 32 values of at most 200 characters.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<RawLiteral>>,
    /// Passwords with the exact violation codes they must produce; checked on every
    /// validation so a broken rule cannot be published.
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub examples: Vec<RawScriptExample>,
    /// CPU-time budget per evaluation, 1–100 ms. Default 50.
    #[schemars(range(min = 1, max = 100))]
    pub timeout_ms: Option<i64>,
    /// Heap cap, 1024–32768 KiB. Default 16384.
    #[schemars(range(min = 1024, max = 32768))]
    pub memory_kb: Option<i64>,
    /// Stack cap, 64–1024 KiB. Default 256.
    #[schemars(range(min = 64, max = 1024))]
    pub stack_kb: Option<i64>,
}

/// A literal value a script param may take: a string or a number, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "ScriptParamValue")]
pub enum RawLiteral {
    /// A whole number (`3`).
    Integer(i64),
    /// A number with a fraction (`2.5`).
    Number(f64),
    /// A text (`"FitLife"`).
    Text(String),
}

/// One script example.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScriptExample")]
pub struct RawScriptExample {
    /// The example password.
    pub password: String,
    /// Violation codes the whole policy must return for it (`[]` = accepted).
    #[serde(default)]
    pub expect: Vec<String>,
}

/// How a reset is carried out.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Reset")]
pub struct RawReset {
    /// Which flow runs. Default `hosted`.
    pub mode: Option<ResetMode>,
    /// `link` (a URL in the email) or `code` (a short code typed into the app; `hosted`
    /// only). Default `link`.
    pub delivery: Option<Delivery>,
    /// Token lifetime: `30m`, `2h`, `900s`. Links 5m–1h (default 30m); codes 5m–10m
    /// (default 10m).
    #[schemars(regex(pattern = r"^[0-9]{1,5}(s|m|h)$"))]
    pub token_ttl: Option<String>,
    /// Where to send the user after success: exact `https://` URLs or app deep links
    /// (`myapp://reset-done`). No wildcards, fragments or user info; `http://` only for
    /// localhost.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(min = 1, max = 2048)))]
    pub redirect_uris: Vec<String>,
    /// After Passgate sets the new password (mode `hosted`, Auth0), end the user's other
    /// sessions and revoke their refresh tokens. Needs Auth0's session management API
    /// (Enterprise plan; scopes `delete:sessions`, `delete:refresh_tokens`): set `false` when
    /// your plan lacks it. Default true.
    pub revoke_sessions: Option<bool>,
}

/// The reset email.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Email")]
pub struct RawEmail {
    /// Sender: `Acme Shop <no-reply@acme.example>` or `no-reply@acme.example`. Default: the
    /// platform's sender.
    #[schemars(length(min = 3, max = 320))]
    pub from: Option<String>,
    /// Subject per locale; when given, every supported locale needs one.
    #[serde(default)]
    pub subject: BTreeMap<String, String>,
    /// Also email the user after their password changed. Default true.
    pub password_changed_notice: Option<bool>,
}

/// Request limits.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RateLimits")]
pub struct RawRateLimits {
    /// Reset requests per client IP per hour (1–100). Default 20.
    #[schemars(range(min = 1, max = 100))]
    pub requests_per_ip_per_hour: Option<i64>,
    /// Reset requests per account per hour (1–10). Default 5.
    #[schemars(range(min = 1, max = 10))]
    pub requests_per_account_per_hour: Option<i64>,
    /// Reset requests for the whole tenant per minute (1–6000). Default 600.
    #[schemars(range(min = 1, max = 6000))]
    pub requests_per_tenant_per_minute: Option<i64>,
}
