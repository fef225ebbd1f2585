//! The startup check (style.md item 9): every page and email template of every tenant's
//! theme renders in every locale the tenant supports, with the tenant's own messages, and
//! every message key resolves. A miss stops the server with an error naming tenant, locale
//! and key.

use std::collections::BTreeMap;

use passgate_tenant::TenantConfig;
use passgate_theme::{ThemeError, Themes};

use crate::error::WebError;

/// A tenant's supported locales and its own messages per locale, in the shape
/// [`Themes::check_tenant`] takes (shared by the startup check and the admin API's write
/// validation).
pub(crate) struct TenantCatalogs {
    /// Supported locale tags.
    pub(crate) locales: Vec<String>,
    /// The tenant's message overrides by locale tag.
    pub(crate) overrides: BTreeMap<String, BTreeMap<String, String>>,
}

impl TenantCatalogs {
    /// Reads them off `config`.
    pub(crate) fn of(config: &TenantConfig) -> Self {
        Self {
            locales: config
                .locales
                .supported
                .iter()
                .map(|l| l.as_str().to_owned())
                .collect(),
            overrides: config
                .messages
                .iter()
                .map(|(locale, messages)| (locale.as_str().to_owned(), messages.clone()))
                .collect(),
        }
    }
}

/// Checks one tenant; see the module doc.
pub fn check_tenant(themes: &Themes, config: &TenantConfig) -> Result<(), WebError> {
    let tenant = config.id.as_str().to_owned();
    let theme = config.theme.as_str();
    if !themes.has_theme(theme) {
        return Err(WebError::UnknownTheme {
            tenant,
            theme: theme.to_owned(),
        });
    }
    let TenantCatalogs { locales, overrides } = TenantCatalogs::of(config);
    let mut problems = Vec::new();
    if let Err(err) = themes.check_tenant(theme, &config.display_name, &locales, &overrides) {
        problems.push(describe(&err));
    }
    // Keys the config itself uses (regex rule messages) must resolve too.
    for locale in &locales {
        for key in config.referenced_message_keys() {
            let own = overrides.get(locale).is_some_and(|m| m.contains_key(key));
            let found = own
                || passgate_theme::Messages::new(themes, theme, locale, BTreeMap::new())
                    .is_ok_and(|m| m.get(key).is_some());
            if !found {
                problems.push(format!("missing message key `{key}` in locale {locale}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WebError::TenantTheme {
            tenant,
            message: problems.join("; "),
        })
    }
}

/// Checks every tenant; all failures are reported together.
pub fn check_tenants<'a>(
    themes: &Themes,
    configs: impl IntoIterator<Item = &'a TenantConfig>,
) -> Result<(), Vec<WebError>> {
    let errors: Vec<WebError> = configs
        .into_iter()
        .filter_map(|config| check_tenant(themes, config).err())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn describe(err: &ThemeError) -> String {
    match err {
        ThemeError::MissingMessages(missing) => missing
            .iter()
            .map(|m| {
                format!(
                    "missing message key `{}` in locale {} (theme {})",
                    m.key, m.locale, m.theme
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
