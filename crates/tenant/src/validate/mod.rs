//! Raw YAML structs → [`TenantConfig`], collecting *every* problem with its key path and
//! position instead of stopping at the first.
//!
//! Each section has its own function that returns a usable value even when part of it is
//! wrong (a default stands in), so later sections are still checked; the caller discards
//! the result when any error was recorded.

mod contrast;
mod css;
mod messages;
mod policy;

pub(crate) use messages::check_message_key;
use messages::{join, locales, messages};

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    compile::{self, CompiledPolicy},
    config::{Branding, Delivery, EmailSettings, Locales, RateLimits, ResetSettings, TenantConfig},
    error::{Problem, Severity, ValueError},
    ids::{ClientId, TenantId},
    limits,
    positions::{PositionIndex, index, key},
    raw::{RawBranding, RawEmail, RawLocales, RawRateLimits, RawReset, RawTenant},
    values::{HexColor, LocaleTag, LogoUrl, Mailbox, RedirectUri, ThemeName, TokenTtl},
};

/// Gathers problems, placing each at its key's position.
pub(crate) struct Collector<'a> {
    index: &'a PositionIndex,
    problems: Vec<Problem>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(index: &'a PositionIndex) -> Self {
        Self {
            index,
            problems: Vec::new(),
        }
    }

    fn push(&mut self, path: &str, message: String, severity: Severity) {
        let at = self.index.position_of(path);
        self.problems.push(Problem {
            path: path.to_owned(),
            line: at.line,
            column: at.column,
            message,
            severity,
        });
    }

    /// Records an error at `path`.
    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), Severity::Error);
    }

    /// Records an error about line `line` (1-based) of the text at `path`: on that line of
    /// the document when the text is a block scalar, else at the text itself.
    pub(crate) fn error_in_text(&mut self, path: &str, line: usize, message: impl Into<String>) {
        match self.index.block_text_start(path) {
            Some(start) => self.problems.push(Problem {
                path: path.to_owned(),
                line: start.line.saturating_add(line.saturating_sub(1)),
                column: start.column,
                message: message.into(),
                severity: Severity::Error,
            }),
            None => self.error(path, message),
        }
    }

    /// Records a warning at `path`.
    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), Severity::Warning);
    }

    /// Whether any error (not warning) was recorded.
    pub(crate) fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// Every problem, in document order.
    pub(crate) fn into_problems(mut self) -> Vec<Problem> {
        self.problems
            .sort_by_key(|p| (p.line, p.column, p.severity, p.path.clone()));
        self.problems
    }

    /// Parses `raw` with `parse`, recording the error at `path` on failure.
    fn parse<T>(
        &mut self,
        path: &str,
        raw: &str,
        parse: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(e) => {
                self.error(path, e.0);
                None
            }
        }
    }

    /// An integer within `min..=max`, or `default` when unset. Out of range is an error
    /// naming the bounds (and the default stands in).
    fn bounded<T>(
        &mut self,
        path: &str,
        value: Option<i64>,
        default: T,
        min: T,
        max: T,
        why: &str,
    ) -> T
    where
        T: Copy + TryFrom<i64> + Into<i64> + std::fmt::Display,
    {
        let Some(value) = value else { return default };
        if value >= min.into() && value <= max.into() {
            T::try_from(value).unwrap_or(default)
        } else {
            self.error(
                path,
                format!("must be between {min} and {max}{why} (found {value})"),
            );
            default
        }
    }
}

/// Validates a whole document and compiles its password policy (even when other sections
/// are wrong, so regex and script problems are reported in the same pass). `None` when any
/// error was recorded in `c`. The script runs as `owner`'s when given (the tenant the
/// caller knows the document belongs to), else as the tenant the document names.
pub(crate) fn tenant(
    raw: RawTenant,
    owner: Option<&TenantId>,
    c: &mut Collector<'_>,
) -> Option<(TenantConfig, CompiledPolicy)> {
    let id = c.parse("id", &raw.id, |s| {
        TenantId::parse(s).map_err(|e| ValueError::new(format!("the tenant id {e}")))
    });
    let display_name = text(
        c,
        "display_name",
        &raw.display_name,
        limits::MAX_DISPLAY_NAME_CHARS,
    );
    let client_ids = client_ids(c, &raw.client_ids);
    let theme = match &raw.theme {
        Some(t) => c.parse("theme", t, ThemeName::parse).unwrap_or_default(),
        None => ThemeName::default(),
    };
    let branding = raw.branding.map(|b| branding(c, b)).unwrap_or_default();
    contrast::check(c, theme.as_str(), &branding);
    let locales = locales(c, raw.locales);
    let messages = messages(c, raw.messages, &locales);
    let owner = owner.map_or(raw.id.as_str(), TenantId::as_str);
    let has_policy = raw.password_policy.is_some();
    let password_policy = policy::policy(c, raw.password_policy, owner);
    let compiled = compile::compile(&password_policy, c);
    let reset = reset(c, raw.reset);
    provider_policy_warning(c, &reset, has_policy);
    let email = email(c, raw.email, &locales, &reset);
    let rate_limits = rate_limits(c, raw.rate_limits);

    if c.has_errors() {
        return None;
    }
    let config = TenantConfig {
        id: id?,
        display_name,
        client_ids,
        theme,
        branding,
        locales,
        messages,
        password_policy,
        reset,
        email,
        rate_limits,
    };
    Some((config, compiled?))
}

/// A one-line human text: not blank, no control characters, at most `max` characters.
fn text(c: &mut Collector<'_>, path: &str, raw: &str, max: usize) -> String {
    if raw.trim().is_empty() {
        c.error(path, "may not be empty");
    } else if raw.chars().count() > max {
        c.error(path, format!("is at most {max} characters"));
    } else if raw.chars().any(char::is_control) {
        c.error(
            path,
            "may not contain line breaks or other control characters",
        );
    }
    raw.to_owned()
}

fn client_ids(c: &mut Collector<'_>, raw: &[String]) -> Vec<ClientId> {
    if raw.len() > limits::MAX_CLIENT_IDS {
        c.error(
            "client_ids",
            format!("at most {} client ids", limits::MAX_CLIENT_IDS),
        );
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, id) in raw.iter().enumerate() {
        let path = index("client_ids", i);
        if !seen.insert(id.as_str()) {
            c.error(&path, format!("the client id {id:?} is listed twice"));
            continue;
        }
        out.extend(c.parse(&path, id, |s| {
            ClientId::parse(s).map_err(|e| ValueError::new(format!("a client id {e}")))
        }));
    }
    out
}

fn branding(c: &mut Collector<'_>, raw: RawBranding) -> Branding {
    let color = |c: &mut Collector<'_>, name: &str, v: Option<String>| {
        v.and_then(|v| c.parse(&key("branding", name), &v, HexColor::parse))
    };
    let primary_color = color(c, "primary_color", raw.primary_color);
    let background_color = color(c, "background_color", raw.background_color);
    let text_color = color(c, "text_color", raw.text_color);
    let logo_url = raw
        .logo_url
        .and_then(|v| c.parse("branding.logo_url", &v, LogoUrl::parse));
    let font_family = raw.font_family.inspect(|f| {
        let ok = !f.trim().is_empty()
            && f.chars().count() <= limits::MAX_FONT_FAMILY_CHARS
            && f.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || " ,'\"-".contains(ch));
        if !ok {
            c.error(
                "branding.font_family",
                format!(
                    "a font-family list is 1 to {} letters, digits, spaces, commas, '-' and quotes",
                    limits::MAX_FONT_FAMILY_CHARS
                ),
            );
        }
    });
    let custom_css = raw.custom_css.inspect(|css| {
        if let Err(e) = css::check(css) {
            c.error("branding.custom_css", e.0);
        }
    });
    Branding {
        primary_color,
        background_color,
        text_color,
        logo_url,
        font_family,
        custom_css,
    }
}

/// In `auth0_ticket` and `auth0_email` modes Auth0's own page takes the new password, so the
/// database connection's password policy applies and the tenant's does not: say so.
fn provider_policy_warning(c: &mut Collector<'_>, reset: &ResetSettings, has_policy: bool) {
    use crate::config::ResetMode;
    if !matches!(reset.mode, ResetMode::Auth0Ticket | ResetMode::Auth0Email) {
        return;
    }
    let path = if has_policy {
        "password_policy"
    } else {
        "reset.mode"
    };
    c.warn(
        path,
        "password_policy does not apply in this mode: Auth0's page sets the password, so the \
         Auth0 database connection's password policy (its strength level, length, history, \
         dictionary and personal-data options) decides what is accepted; use mode: hosted for \
         this policy to apply",
    );
}

fn reset(c: &mut Collector<'_>, raw: Option<RawReset>) -> ResetSettings {
    let raw = raw.unwrap_or(RawReset {
        mode: None,
        delivery: None,
        token_ttl: None,
        redirect_uris: Vec::new(),
        revoke_sessions: None,
    });
    let mode = raw.mode.unwrap_or_default();
    let delivery = raw.delivery.unwrap_or_default();
    if delivery == Delivery::Code && mode != crate::config::ResetMode::Hosted {
        c.error(
            "reset.delivery",
            "code delivery needs mode: hosted (in the other modes the provider or its ticket sends a link)",
        );
    }
    let (default_ttl, max_ttl, what) = match delivery {
        Delivery::Link => (
            limits::DEFAULT_LINK_TTL,
            limits::MAX_LINK_TTL,
            "a reset link",
        ),
        Delivery::Code => (
            limits::DEFAULT_CODE_TTL,
            limits::MAX_CODE_TTL,
            "a reset code (ASVS 2.7.2)",
        ),
    };
    let mut token_ttl = TokenTtl::from_duration(default_ttl);
    if let Some(ttl) = &raw.token_ttl {
        if !mode.passgate_sets_ttl() {
            c.warn(
                "reset.token_ttl",
                "ignored in this mode: the identity provider decides how long its reset link lives",
            );
        }
        if let Some(ttl) = c.parse("reset.token_ttl", ttl, TokenTtl::parse) {
            let min = TokenTtl::from_duration(limits::MIN_TOKEN_TTL);
            let max = TokenTtl::from_duration(max_ttl);
            if ttl < min || ttl > max {
                c.error(
                    "reset.token_ttl",
                    format!("{what} must live between {min} and {max} (found {ttl})"),
                );
            } else {
                token_ttl = ttl;
            }
        }
    }
    if raw.redirect_uris.len() > limits::MAX_REDIRECT_URIS {
        c.error(
            "reset.redirect_uris",
            format!("at most {} redirect URIs", limits::MAX_REDIRECT_URIS),
        );
    }
    let mut redirect_uris: Vec<RedirectUri> = Vec::new();
    for (i, uri) in raw.redirect_uris.iter().enumerate() {
        let path = index("reset.redirect_uris", i);
        if let Some(uri) = c.parse(&path, uri, RedirectUri::parse) {
            if redirect_uris.contains(&uri) {
                c.error(&path, format!("{uri} is listed twice"));
            } else {
                redirect_uris.push(uri);
            }
        }
    }
    if raw.revoke_sessions == Some(true) && mode != crate::config::ResetMode::Hosted {
        c.warn(
            "reset.revoke_sessions",
            "ignored in this mode: Passgate revokes sessions only when it sets the password itself (mode: hosted)",
        );
    }
    ResetSettings {
        mode,
        delivery,
        token_ttl,
        redirect_uris,
        revoke_sessions: raw.revoke_sessions.unwrap_or(true),
    }
}

fn email(
    c: &mut Collector<'_>,
    raw: Option<RawEmail>,
    locales: &Locales,
    reset: &ResetSettings,
) -> EmailSettings {
    let Some(raw) = raw else {
        return EmailSettings {
            from: None,
            subject: BTreeMap::new(),
            password_changed_notice: true,
        };
    };
    if !reset.mode.passgate_sends_email() && (raw.from.is_some() || !raw.subject.is_empty()) {
        c.warn(
            "email",
            "from and subject are ignored in this mode: the identity provider sends the reset email",
        );
    }
    let from = raw
        .from
        .and_then(|f| c.parse("email.from", &f, Mailbox::parse));
    let mut subject = BTreeMap::new();
    for (locale, text_value) in raw.subject {
        let path = key("email.subject", &locale);
        let Some(tag) = c.parse(&path, &locale, LocaleTag::parse) else {
            continue;
        };
        if !locales.supported.contains(&tag) {
            c.error(
                &path,
                format!("a subject for {tag}, which is not a supported locale"),
            );
            continue;
        }
        let value = text(c, &path, &text_value, limits::MAX_SUBJECT_CHARS);
        subject.insert(tag, value);
    }
    if !subject.is_empty() {
        let missing: Vec<LocaleTag> = locales
            .supported
            .iter()
            .filter(|l| !subject.contains_key(*l))
            .cloned()
            .collect();
        if !missing.is_empty() {
            c.error(
                "email.subject",
                format!(
                    "a subject is missing for {} (every supported locale needs one)",
                    join(&missing)
                ),
            );
        }
    }
    EmailSettings {
        from,
        subject,
        password_changed_notice: raw.password_changed_notice.unwrap_or(true),
    }
}

fn rate_limits(c: &mut Collector<'_>, raw: Option<RawRateLimits>) -> RateLimits {
    let raw = raw.unwrap_or(RawRateLimits {
        requests_per_ip_per_hour: None,
        requests_per_account_per_hour: None,
        requests_per_tenant_per_minute: None,
    });
    let why = " (the platform ceiling)";
    RateLimits {
        requests_per_ip_per_hour: c.bounded(
            "rate_limits.requests_per_ip_per_hour",
            raw.requests_per_ip_per_hour,
            limits::DEFAULT_REQUESTS_PER_IP_PER_HOUR,
            1,
            limits::MAX_REQUESTS_PER_IP_PER_HOUR,
            why,
        ),
        requests_per_account_per_hour: c.bounded(
            "rate_limits.requests_per_account_per_hour",
            raw.requests_per_account_per_hour,
            limits::DEFAULT_REQUESTS_PER_ACCOUNT_PER_HOUR,
            1,
            limits::MAX_REQUESTS_PER_ACCOUNT_PER_HOUR,
            why,
        ),
        requests_per_tenant_per_minute: c.bounded(
            "rate_limits.requests_per_tenant_per_minute",
            raw.requests_per_tenant_per_minute,
            limits::DEFAULT_REQUESTS_PER_TENANT_PER_MINUTE,
            1,
            limits::MAX_REQUESTS_PER_TENANT_PER_MINUTE,
            why,
        ),
    }
}
