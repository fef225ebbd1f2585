//! Message catalogs and the [`Messages`] lookup used by templates and by callers.
//!
//! A catalog is a flat YAML map `key: text` per theme and locale. Lookups go through three
//! layers, first hit wins: the tenant's overrides, the theme's catalog, the `default`
//! theme's catalog (same locale). A key found nowhere is an error, never its own text.

use std::collections::BTreeMap;
use std::path::Path;

use tera::Value;
use tera::value::Key;

use crate::error::{MissingMessage, ThemeError};
use crate::themes::Themes;

/// Marks a missing key inside rendered output so one render can report every miss.
/// No other text can contain it: catalogs, overrides and parameters are scrubbed of NUL,
/// and the HTML escaper turns NUL in any other value into U+FFFD.
pub(crate) const MISSING_OPEN: &str = "\u{0}pg-missing:";
/// Closes a [`MISSING_OPEN`] marker.
pub(crate) const MISSING_CLOSE: char = '\u{0}';

/// The name of the context variable through which the `t()` function sees the layers.
pub(crate) const CONTEXT_VAR: &str = "__pg_messages";

/// Parses one catalog file: a flat map of string keys to string texts.
pub(crate) fn parse_catalog(path: &Path, text: &str) -> Result<Value, ThemeError> {
    let map: BTreeMap<String, String> =
        serde_saphyr::from_str(text).map_err(|e| ThemeError::Catalog {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(to_value(map))
}

fn to_value(map: BTreeMap<String, String>) -> Value {
    let scrubbed: BTreeMap<String, String> = map
        .into_iter()
        .map(|(k, v)| (scrub(&k), scrub(&v)))
        .collect();
    Value::from(scrubbed)
}

/// Removes NUL so no text can forge a missing-key marker.
pub(crate) fn scrub(text: &str) -> String {
    text.replace('\0', "")
}

/// Looks `key` up in one catalog layer.
pub(crate) fn lookup<'a>(layer: &'a Value, key: &'a str) -> Option<&'a str> {
    layer.as_map()?.get(&Key::Str(key))?.as_str()
}

/// Which layer a message text comes from (see [`Messages::source_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSource {
    /// The tenant's own `messages:` for the locale.
    Tenant,
    /// The tenant's theme's catalog for the locale.
    Theme,
    /// The `default` theme's catalog for the locale.
    DefaultTheme,
}

/// The messages of one theme in one locale, with a tenant's overrides on top.
///
/// Cheap to clone (catalogs are shared); build it once per tenant config version and
/// locale and reuse it for every page and email.
#[derive(Debug, Clone)]
pub struct Messages {
    theme: String,
    locale: String,
    /// Overrides, theme catalog, default catalog: first hit wins.
    layers: Vec<Value>,
    /// Where each layer comes from, in the same order.
    sources: Vec<MessageSource>,
}

impl Messages {
    /// Builds the lookup for `theme` in `locale`, with `overrides` (the tenant's messages
    /// for that locale) winning over the theme's catalog, which wins over `default`'s.
    pub fn new(
        themes: &Themes,
        theme: &str,
        locale: &str,
        overrides: BTreeMap<String, String>,
    ) -> Result<Self, ThemeError> {
        if !themes.has_theme(theme) {
            return Err(ThemeError::UnknownTheme(theme.to_owned()));
        }
        let mut layers = vec![to_value(overrides)];
        let mut sources = vec![MessageSource::Tenant];
        if let Some(catalog) = themes.catalog(theme, locale) {
            layers.push(catalog);
            sources.push(MessageSource::Theme);
        }
        if theme != crate::DEFAULT_THEME
            && let Some(catalog) = themes.catalog(crate::DEFAULT_THEME, locale)
        {
            layers.push(catalog);
            sources.push(MessageSource::DefaultTheme);
        }
        Ok(Self {
            theme: theme.to_owned(),
            locale: locale.to_owned(),
            layers,
            sources,
        })
    }

    /// The theme these messages were built for.
    pub fn theme(&self) -> &str {
        &self.theme
    }

    /// The locale (a BCP 47 tag such as `fr`) these messages are in.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// Where `key` comes from and its raw text: the tenant's override, the theme's catalog
    /// or the `default` theme's catalog (for an editor's translations view).
    pub fn source_of<'a>(&'a self, key: &'a str) -> Option<(MessageSource, &'a str)> {
        self.layers
            .iter()
            .zip(&self.sources)
            .find_map(|(layer, source)| lookup(layer, key).map(|text| (*source, text)))
    }

    /// The raw text of `key` (placeholders not substituted), if any layer has it.
    pub fn get<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.layers.iter().find_map(|layer| lookup(layer, key))
    }

    /// The text of `key` with `{name}` placeholders replaced by `params`.
    ///
    /// The result is plain text: escape it for the context you put it in (templates do
    /// this for you). A key found in no layer is [`ThemeError::MissingMessages`].
    pub fn format(&self, key: &str, params: &[(&str, &str)]) -> Result<String, ThemeError> {
        let text = self.get(key).ok_or_else(|| self.missing(key))?;
        Ok(substitute(text, |name| {
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| scrub(v))
        }))
    }

    fn missing(&self, key: &str) -> ThemeError {
        ThemeError::MissingMessages(vec![self.missing_one(key)])
    }

    /// The report for one key missing in these messages.
    pub(crate) fn missing_one(&self, key: &str) -> MissingMessage {
        MissingMessage {
            theme: self.theme.clone(),
            locale: self.locale.clone(),
            key: key.to_owned(),
        }
    }

    /// The layers as one template value, for the `t()` function.
    pub(crate) fn to_context_value(&self) -> Value {
        Value::from(self.layers.clone())
    }

    /// Finds the missing-key markers `t()` left in `rendered`.
    pub(crate) fn collect_missing(&self, rendered: &str) -> Vec<MissingMessage> {
        let mut found = Vec::new();
        let mut rest = rendered;
        while let Some(start) = rest.find(MISSING_OPEN) {
            let after = &rest[start + MISSING_OPEN.len()..];
            let end = after.find(MISSING_CLOSE).unwrap_or(after.len());
            let missing = self.missing_one(&after[..end]);
            if !found.contains(&missing) {
                found.push(missing);
            }
            rest = &after[end..];
        }
        found
    }
}

/// Replaces each `{name}` (name: ASCII letters, digits, `_`) for which `param` returns a
/// value, in one left-to-right pass: substituted text is never scanned again, so a
/// parameter cannot inject another placeholder. Unknown placeholders stay literal.
pub(crate) fn substitute(text: &str, param: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let closes = after[name_len..].starts_with('}');
        match (closes && !name.is_empty()).then(|| param(name)).flatten() {
            Some(value) => {
                out.push_str(&value);
                rest = &after[name_len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Messages {
    /// Messages with no catalog at all: every key misses (for listing template keys).
    pub(crate) fn empty(theme: &str) -> Self {
        Self {
            theme: theme.to_owned(),
            locale: "none".to_owned(),
            layers: Vec::new(),
            sources: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::substitute;

    fn params(name: &str) -> Option<String> {
        match name {
            "min" => Some("12".to_owned()),
            "evil" => Some("{min}".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn placeholders_are_replaced_once_and_unknown_ones_stay() {
        assert_eq!(
            substitute("At least {min} chars", params),
            "At least 12 chars"
        );
        assert_eq!(substitute("{evil} {min}", params), "{min} 12");
        assert_eq!(
            substitute("{nope} {} { min} {min", params),
            "{nope} {} { min} {min"
        );
        assert_eq!(substitute("{{min}}", params), "{12}");
        assert_eq!(substitute("é{min}ü", params), "é12ü");
    }
}
