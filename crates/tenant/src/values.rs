//! Newtypes for the values a tenant writes, each parsed once so code that holds one never
//! re-checks it: colours, locale tags, theme names, URLs, durations and mailboxes.

use std::{fmt, time::Duration};

use url::Url;

use crate::{error::ValueError, limits};

/// Implements `as_str`, `Display` and a transparent `Serialize` for a `String` newtype.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The value as written (normalised where the type says so).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

/// A theme name (`default`, `bank`): lowercase letters, digits and `-`. Whether the theme
/// exists is checked by the web crate, which owns the themes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThemeName(String);
string_newtype!(ThemeName);

impl ThemeName {
    /// Parses a theme name.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let ok = !raw.is_empty()
            && raw.len() <= limits::MAX_THEME_NAME_CHARS
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValueError::new(format!(
                "a theme name is 1 to {} lowercase letters, digits or '-'",
                limits::MAX_THEME_NAME_CHARS
            )))
        }
    }
}

impl Default for ThemeName {
    fn default() -> Self {
        Self("default".to_owned())
    }
}

/// A CSS colour `#rrggbb`, stored lowercase; `#rgb` is expanded. Nothing else reaches a
/// stylesheet, so a colour cannot smuggle CSS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HexColor(String);
string_newtype!(HexColor);

impl HexColor {
    /// Parses `#rgb` or `#rrggbb` (any case).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let err = || ValueError::new(format!("{raw:?} is not a colour: write #rrggbb or #rgb"));
        let hex = raw.strip_prefix('#').ok_or_else(err)?;
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        let full = match hex.len() {
            6 => hex.to_ascii_lowercase(),
            3 => hex
                .chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase(),
            _ => return Err(err()),
        };
        Ok(Self(format!("#{full}")))
    }
}

/// A BCP 47 language tag in the subset Passgate's catalogs use: a 2–3 letter language,
/// an optional 4-letter script and an optional region (`en`, `pt-BR`, `zh-Hant-TW`,
/// `es-419`), in canonical case so that `pt-BR` and `pt-br` cannot both appear.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocaleTag(String);
string_newtype!(LocaleTag);

impl LocaleTag {
    /// Parses a locale tag; a tag in the wrong case is refused with the canonical spelling.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let canonical = canonical_locale(raw).ok_or_else(|| {
            ValueError::new(format!(
                "{raw:?} is not a locale tag such as en, fr, pt-BR or zh-Hant"
            ))
        })?;
        if canonical != raw {
            return Err(ValueError::new(format!(
                "write the locale tag {raw:?} as {canonical:?}"
            )));
        }
        Ok(Self(canonical))
    }

    /// `en`, the platform's default locale.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// The language subtag (`pt` for `pt-BR`), for falling back to a catalog.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

fn canonical_locale(raw: &str) -> Option<String> {
    let mut parts = raw.split('-');
    let language = parts.next()?;
    if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = language.to_ascii_lowercase();
    let mut seen_script = false;
    let mut seen_region = false;
    for part in parts {
        let alpha = part.chars().all(|c| c.is_ascii_alphabetic());
        let digits = part.chars().all(|c| c.is_ascii_digit());
        if part.len() == 4 && alpha && !seen_script && !seen_region {
            seen_script = true;
            out.push('-');
            out.push_str(&part[..1].to_ascii_uppercase());
            out.push_str(&part[1..].to_ascii_lowercase());
        } else if ((part.len() == 2 && alpha) || (part.len() == 3 && digits)) && !seen_region {
            seen_region = true;
            out.push('-');
            out.push_str(&part.to_ascii_uppercase());
        } else {
            return None;
        }
    }
    Some(out)
}

/// Schemes that run code or read local data in a browser or an OS: never a redirect target.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "vbscript",
    "file",
    "blob",
    "about",
    "filesystem",
    "ftp",
    "ws",
    "wss",
    "mailto",
    "tel",
    "sms",
    "intent",
];

/// Where a finished reset may send the user: an absolute `https://` URL, an `http://` URL
/// on localhost (development), or an app deep link with a custom scheme
/// (`acmeshop://reset-done`, RFC 8252 §7.1). No wildcard, fragment or user info. A request's
/// `redirect_uri` is compared with [`RedirectUri::matches`]: byte-for-byte equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);
string_newtype!(RedirectUri);

impl RedirectUri {
    /// Parses a redirect URI. It must already be in normal form (what the `url` crate would
    /// print), so that exact matching cannot be defeated by case or encoding differences.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.len() > limits::MAX_URL_CHARS {
            return Err(ValueError::new(format!(
                "a redirect URI is at most {} characters",
                limits::MAX_URL_CHARS
            )));
        }
        if raw.contains('*') {
            return Err(ValueError::new(
                "wildcards are not allowed in redirect URIs: list every exact URI",
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::new(
                "a redirect URI contains no spaces or control characters",
            ));
        }
        let url = Url::parse(raw)
            .map_err(|e| ValueError::new(format!("{raw:?} is not an absolute URI ({e})")))?;
        let scheme = url.scheme();
        if FORBIDDEN_SCHEMES.contains(&scheme) {
            return Err(ValueError::new(format!(
                "the scheme {scheme:?} is not allowed in a redirect URI"
            )));
        }
        if url.fragment().is_some() {
            return Err(ValueError::new("a redirect URI may not have a #fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ValueError::new(
                "a redirect URI may not contain user info (user@host)",
            ));
        }
        match scheme {
            "https" => {}
            "http" => {
                let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                if !local {
                    return Err(ValueError::new(
                        "http:// redirect URIs are allowed only for localhost: use https://",
                    ));
                }
            }
            _ if url.cannot_be_a_base() && !raw.contains(":/") => {
                return Err(ValueError::new(format!(
                    "{raw:?} is not a URL: use https://… or an app link such as myapp://done"
                )));
            }
            _ => {}
        }
        if url.as_str() != raw {
            return Err(ValueError::new(format!(
                "write this redirect URI in normal form: {:?}",
                url.as_str()
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Whether a requested redirect URI is exactly this one (no prefix or pattern matching).
    pub fn matches(&self, requested: &str) -> bool {
        self.0 == requested
    }
}

/// A logo URL: `https://` only (a page served over TLS must not load mixed content), no
/// user info.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogoUrl(String);
string_newtype!(LogoUrl);

impl LogoUrl {
    /// Parses a logo URL.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.len() > limits::MAX_URL_CHARS {
            return Err(ValueError::new(format!(
                "a logo URL is at most {} characters",
                limits::MAX_URL_CHARS
            )));
        }
        if raw.starts_with('/') {
            return Self::gateway_asset(raw);
        }
        let url = Url::parse(raw).map_err(|e| {
            ValueError::new(format!(
                "{raw:?} is neither an absolute URL ({e}) nor a theme asset `/static/<theme>/<file>`"
            ))
        })?;
        if url.scheme() != "https" {
            return Err(ValueError::new(
                "the logo URL must start with https:// (or name a theme asset `/static/<theme>/<file>`)",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ValueError::new(
                "the logo URL may not contain user info (user@host)",
            ));
        }
        Ok(Self(url.to_string()))
    }
}

impl LogoUrl {
    /// A file the gateway serves from a theme's `static/` folder, written
    /// `/static/<theme>/<file>`: plain segments only, so it cannot leave the folder.
    fn gateway_asset(raw: &str) -> Result<Self, ValueError> {
        let err = || {
            ValueError::new(format!(
                "{raw:?}: a theme asset is written /static/<theme>/<file> with letters, digits, '-', '_' and '.'"
            ))
        };
        let rest = raw.strip_prefix("/static/").ok_or_else(err)?;
        let segments: Vec<&str> = rest.split('/').collect();
        let ok = segments.len() >= 2
            && segments.iter().all(|s| {
                !s.is_empty()
                    && *s != "."
                    && *s != ".."
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(err())
        }
    }
}

/// How long a reset token lives, written `900s`, `30m` or `2h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenTtl(Duration);

impl TokenTtl {
    /// Parses `<number><s|m|h>`. Bounds depend on the delivery and are checked by validation.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let err = || {
            ValueError::new(format!(
                "{raw:?} is not a duration: write a whole number followed by s, m or h (e.g. 30m)"
            ))
        };
        let unit = raw.chars().last().ok_or_else(err)?;
        let number = &raw[..raw.len() - unit.len_utf8()];
        if number.is_empty() || number.len() > 5 || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        let n: u64 = number.parse().map_err(|_| err())?;
        let seconds = match unit {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            _ => return Err(err()),
        };
        Ok(Self(Duration::from_secs(seconds)))
    }

    /// Wraps a duration (used for defaults).
    pub const fn from_duration(duration: Duration) -> Self {
        Self(duration)
    }

    /// The lifetime.
    pub fn duration(self) -> Duration {
        self.0
    }
}

impl fmt::Display for TokenTtl {
    /// The shortest exact form: `2h`, `30m` or `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        if s > 0 && s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s > 0 && s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// An email sender, `Display Name <local@domain>` or `local@domain`. Control characters
/// (header injection) and characters that would need quoting are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    name: Option<String>,
    address: String,
}

impl Mailbox {
    /// Parses a mailbox.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.chars().any(char::is_control) {
            return Err(ValueError::new(
                "a sender may not contain control characters or line breaks",
            ));
        }
        let (name, address) = match raw.trim().strip_suffix('>') {
            Some(rest) => {
                let (name, address) = rest.rsplit_once('<').ok_or_else(|| {
                    ValueError::new("write the sender as Name <address@domain> or address@domain")
                })?;
                let name = name.trim();
                if name
                    .chars()
                    .any(|c| matches!(c, '"' | '<' | '>' | '\\' | ',' | ';'))
                {
                    return Err(ValueError::new(
                        "a sender name may not contain quotes, <, >, \\, ',' or ';'",
                    ));
                }
                if name.chars().count() > 78 {
                    return Err(ValueError::new("a sender name is at most 78 characters"));
                }
                ((!name.is_empty()).then(|| name.to_owned()), address)
            }
            None => (None, raw.trim()),
        };
        check_address(address)?;
        Ok(Self {
            name,
            address: address.to_owned(),
        })
    }

    /// The display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address, `local@domain`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

impl serde::Serialize for Mailbox {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn check_address(address: &str) -> Result<(), ValueError> {
    let err = || {
        ValueError::new(format!(
            "{address:?} is not an email address such as no-reply@example.com"
        ))
    };
    let (local, domain) = address.rsplit_once('@').ok_or_else(err)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(err())
    }
}

#[cfg(test)]
mod tests;
