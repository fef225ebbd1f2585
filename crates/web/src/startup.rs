//! The startup check: every tenant passes [`crate::tenant_check`] (its theme is installed,
//! every page and email template renders in every locale it supports with its own
//! messages, and every message key resolves). A miss stops the server with an error
//! naming tenant, locale and key.

use passgate_tenant::TenantConfig;
use passgate_theme::Themes;

use crate::error::WebError;
use crate::tenant_check::{theme_problems, unknown_theme};

/// Checks one tenant; see the module doc.
pub fn check_tenant(themes: &Themes, config: &TenantConfig) -> Result<(), WebError> {
    let tenant = config.id.as_str().to_owned();
    if unknown_theme(themes, config) {
        return Err(WebError::UnknownTheme {
            tenant,
            theme: config.theme.as_str().to_owned(),
        });
    }
    let problems = theme_problems(themes, config, None);
    if problems.is_empty() {
        return Ok(());
    }
    Err(WebError::TenantTheme {
        tenant,
        message: problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    })
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
