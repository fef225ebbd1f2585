//! A tenant's branding tokens and their safe emission as CSS.
//!
//! Upstream validation (the tenant crate) already restricts these values; this module is
//! the second wall: whatever arrives, nothing can leave the `<style>` element, end a
//! declaration early, or load a remote resource from a non-https logo URL.

use serde::Serialize;

/// Colours, font, logo and extra CSS a tenant may set. `None` keeps the theme's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// Accent colour for buttons and links (`--pg-primary`).
    pub primary_color: Option<String>,
    /// Page background (`--pg-background`).
    pub background_color: Option<String>,
    /// Body text colour (`--pg-text`).
    pub text_color: Option<String>,
    /// An https logo, or a theme asset of this gateway written `/static/<theme>/<file>`
    /// (pages only: a mail cannot load a relative path, so it shows the name instead);
    /// anything else is not rendered (no mixed content, no `data:` tricks).
    pub logo_url: Option<String>,
    /// A CSS font-family list (`--pg-font`); themes ship system font stacks only.
    pub font_family: Option<String>,
    /// Extra CSS appended after the tokens in the same nonce'd `<style>` block.
    pub custom_css: Option<String>,
}

/// What templates see of the branding: values already made safe for their context.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BrandingView {
    /// `:root{…}` custom properties plus the custom CSS; `<` is CSS-escaped so the text
    /// can never close the `<style>` element. Marked safe in templates.
    pub css: String,
    /// The logo URL: an https URL, or a gateway asset resolved under the static prefix.
    pub logo_url: Option<String>,
    /// Individual sanitized tokens, for emails (clients ignore CSS variables).
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub text_color: Option<String>,
    pub font_family: Option<String>,
}

impl Branding {
    /// The template view: sanitized tokens, the style text and the logo if https or, when
    /// `asset_prefix` (the pages' static prefix) is given, a gateway asset under it.
    pub(crate) fn view(&self, asset_prefix: Option<&str>) -> BrandingView {
        let primary = self.primary_color.as_deref().and_then(safe_color);
        let background = self.background_color.as_deref().and_then(safe_color);
        let text = self.text_color.as_deref().and_then(safe_color);
        let font = self.font_family.as_deref().and_then(safe_font);
        let mut css = String::from(":root{");
        for (name, value) in [
            ("--pg-primary", &primary),
            ("--pg-background", &background),
            ("--pg-text", &text),
            ("--pg-font", &font),
        ] {
            if let Some(value) = value {
                css.push_str(&format!("\n  {name}: {value};"));
            }
        }
        css.push_str("\n}\n");
        if let Some(custom) = &self.custom_css {
            css.push_str(&escape_style_text(custom));
            css.push('\n');
        }
        BrandingView {
            css,
            logo_url: self.logo_url.as_deref().and_then(|u| {
                if is_https(u) {
                    Some(u.to_owned())
                } else {
                    let asset = gateway_asset(u)?;
                    asset_prefix.map(|prefix| format!("{}/{asset}", prefix.trim_end_matches('/')))
                }
            }),
            primary_color: primary,
            background_color: background,
            text_color: text,
            font_family: font,
        }
    }

    /// Every token this crate would drop, by field name, so a config write can reject
    /// them instead of silently rendering the theme default.
    pub fn rejected_fields(&self) -> Vec<&'static str> {
        let mut rejected = Vec::new();
        for (field, value) in [
            ("primary_color", &self.primary_color),
            ("background_color", &self.background_color),
            ("text_color", &self.text_color),
        ] {
            if value.as_deref().is_some_and(|v| safe_color(v).is_none()) {
                rejected.push(field);
            }
        }
        if self
            .font_family
            .as_deref()
            .is_some_and(|v| safe_font(v).is_none())
        {
            rejected.push("font_family");
        }
        if self
            .logo_url
            .as_deref()
            .is_some_and(|v| !is_https(v) && gateway_asset(v).is_none())
        {
            rejected.push("logo_url");
        }
        rejected
    }
}

/// A colour value made only of characters that cannot end a declaration or a rule:
/// `#hex`, names, `rgb()/hsl()` notations.
fn safe_color(value: &str) -> Option<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " #(),.%-".contains(c));
    ok.then(|| value.to_owned())
}

/// A font-family list: names, spaces, commas, hyphens and balanced quotes.
fn safe_font(value: &str) -> Option<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ,-_'\"".contains(c))
        && value.matches('"').count().is_multiple_of(2)
        && value.matches('\'').count().is_multiple_of(2);
    ok.then(|| value.to_owned())
}

/// Text inside `<style>` ends at the first `</style`; CSS-escaping every `<` as `\3c `
/// keeps the meaning inside CSS strings and makes that sequence impossible.
pub(crate) fn escape_style_text(css: &str) -> String {
    css.replace('\0', "").replace('<', "\\3c ")
}

/// An absolute `https` URL with a host.
pub(crate) fn is_https(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.scheme() == "https" && u.host().is_some())
}

/// The `<theme>/<file>` part of a gateway asset reference `/static/<theme>/<file>`: plain
/// path segments of letters, digits, `-`, `_` and `.`, none of them `.` or `..`.
pub(crate) fn gateway_asset(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("/static/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let ok = rest.len() <= 200
        && segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    ok.then_some(rest)
}

/// An https URL, or http on a loopback host (local demo and tests).
pub(crate) fn is_link_url(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => u.host().is_some(),
        Ok(u) if u.scheme() == "http" => match u.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}
