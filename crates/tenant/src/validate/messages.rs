//! Locales and message overrides: the supported locales and their default, the message keys
//! a tenant may override per locale, and the texts (one line, placeholders as the templates
//! know them).

use super::*;

pub(super) fn locales(c: &mut Collector<'_>, raw: Option<RawLocales>) -> Locales {
    let Some(raw) = raw else {
        return Locales {
            default: LocaleTag::english(),
            supported: vec![LocaleTag::english()],
        };
    };
    let default = c.parse("locales.default", &raw.default, LocaleTag::parse);
    if raw.supported.is_empty() {
        c.error("locales.supported", "list at least one locale");
    }
    if raw.supported.len() > limits::MAX_LOCALES {
        c.error(
            "locales.supported",
            format!("at most {} locales", limits::MAX_LOCALES),
        );
    }
    let mut supported: Vec<LocaleTag> = Vec::new();
    for (i, tag) in raw.supported.iter().enumerate() {
        let path = index("locales.supported", i);
        if let Some(tag) = c.parse(&path, tag, LocaleTag::parse) {
            if supported.contains(&tag) {
                c.error(&path, format!("the locale {tag} is listed twice"));
            } else {
                supported.push(tag);
            }
        }
    }
    if let Some(default) = &default
        && !supported.contains(default)
        && !raw.supported.is_empty()
    {
        c.error(
            "locales.default",
            format!("the default locale {default} must also be listed in locales.supported"),
        );
    }
    let default = default
        .or_else(|| supported.first().cloned())
        .unwrap_or_else(LocaleTag::english);
    Locales { default, supported }
}

pub(super) fn messages(
    c: &mut Collector<'_>,
    raw: BTreeMap<String, BTreeMap<String, String>>,
    locales: &Locales,
) -> BTreeMap<LocaleTag, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (locale, entries) in raw {
        let path = key("messages", &locale);
        let Some(tag) = c.parse(&path, &locale, LocaleTag::parse) else {
            continue;
        };
        if !locales.supported.contains(&tag) {
            c.error(
                &path,
                format!(
                    "messages for {tag}, which is not a supported locale (supported: {}); add it to locales.supported or remove these messages",
                    join(&locales.supported)
                ),
            );
            continue;
        }
        if entries.len() > limits::MAX_MESSAGES_PER_LOCALE {
            c.error(
                &path,
                format!(
                    "at most {} messages per locale",
                    limits::MAX_MESSAGES_PER_LOCALE
                ),
            );
        }
        for (message_key, message) in &entries {
            let entry_path = key(&path, message_key);
            if let Err(e) = check_message_key(message_key) {
                c.error(&entry_path, e.0);
            }
            if let Err(e) = check_message_text(message) {
                c.error(&entry_path, e.0);
            }
        }
        out.insert(tag, entries);
    }
    out
}

/// Message keys look like `policy.min_length` or `regex:acme_name`.
pub(crate) fn check_message_key(k: &str) -> Result<(), ValueError> {
    let ok = !k.is_empty()
        && k.len() <= limits::MAX_MESSAGE_KEY_CHARS
        && k.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        && k.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "_.:-".contains(ch));
    if ok {
        Ok(())
    } else {
        Err(ValueError::new(format!(
            "{k:?} is not a message key: use lowercase letters, digits, '_', '.', ':' and '-' (at most {} characters)",
            limits::MAX_MESSAGE_KEY_CHARS
        )))
    }
}

/// Message text: bounded, no control characters except line breaks, and well-formed
/// `{name}` placeholders (they are substituted, never evaluated).
fn check_message_text(text: &str) -> Result<(), ValueError> {
    if text.chars().count() > limits::MAX_MESSAGE_CHARS {
        return Err(ValueError::new(format!(
            "a message is at most {} characters",
            limits::MAX_MESSAGE_CHARS
        )));
    }
    if text.chars().any(|ch| ch.is_control() && ch != '\n') {
        return Err(ValueError::new(
            "a message may not contain control characters",
        ));
    }
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(ValueError::new(
                "unbalanced '}' in the message: placeholders look like {min}",
            ));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            ValueError::new("unclosed '{' in the message: placeholders look like {min}")
        })?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            return Err(ValueError::new(format!(
                "{{{name}}} is not a placeholder: use lowercase names such as {{min}}"
            )));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

pub(super) fn join(tags: &[LocaleTag]) -> String {
    tags.iter()
        .map(LocaleTag::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
