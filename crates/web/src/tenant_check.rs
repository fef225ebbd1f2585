//! The one tenant check beyond the YAML parse (style.md item 9): the theme a tenant names
//! is installed, every page and email of it renders in every locale the tenant supports
//! with the tenant's own messages, and every message key the password rules use resolves.
//! The server runs it at startup ([`crate::startup`]), the admin API on every write
//! ([`crate::admin::document`]) and `passgate tenant validate` on every file, so a document
//! one accepts the others accept too. [`provider_problem`] is the reset mode's fit to the
//! provider, for the admin API (the stored binding) and `tenant validate --provider`.

use std::collections::BTreeMap;

use passgate_tenant::{Problem, ProviderFamily, Severity, TenantConfig, check_mode_fits};
use passgate_theme::{Messages, ThemeError, Themes};

/// A tenant's supported locales and its own messages per locale, in the shape
/// [`Themes::check_tenant`] takes.
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

/// Whether `config` names a theme `themes` does not have (the startup error names it so).
pub fn unknown_theme(themes: &Themes, config: &TenantConfig) -> bool {
    !themes.has_theme(config.theme.as_str())
}

/// Every problem of `config` against `themes`, positioned in `yaml` when the document text
/// is at hand (1:1 otherwise). Empty when the tenant renders everywhere.
pub fn theme_problems(themes: &Themes, config: &TenantConfig, yaml: Option<&str>) -> Vec<Problem> {
    let yaml = yaml.unwrap_or_default();
    let theme = config.theme.as_str();
    if unknown_theme(themes, config) {
        return vec![problem_at(
            yaml,
            "theme",
            "theme",
            format!(
                "unknown theme `{theme}`; installed themes: {}",
                themes.names().collect::<Vec<_>>().join(", ")
            ),
        )];
    }
    let TenantCatalogs { locales, overrides } = TenantCatalogs::of(config);
    let mut problems = Vec::new();
    match themes.check_tenant(theme, &config.display_name, &locales, &overrides) {
        Ok(()) => {}
        Err(ThemeError::MissingMessages(missing)) => {
            for m in missing {
                problems.push(problem_at(
                    yaml,
                    "messages",
                    &format!("messages.{}.{}", m.locale, m.key),
                    format!(
                        "no message `{}` in locale {} (theme `{}`): add it under messages.{}",
                        m.key, m.locale, m.theme, m.locale
                    ),
                ));
            }
        }
        Err(other) => problems.push(problem_at(yaml, "theme", "theme", other.to_string())),
    }
    for locale in &locales {
        let own = overrides.get(locale).cloned().unwrap_or_default();
        let Ok(catalog) = Messages::new(themes, theme, locale, own) else {
            continue;
        };
        for key in config.referenced_message_keys() {
            if catalog.get(key).is_none() {
                problems.push(problem_at(
                    yaml,
                    "messages",
                    &format!("messages.{locale}.{key}"),
                    format!("the password rule message `{key}` has no text in locale {locale}"),
                ));
            }
        }
    }
    problems
}

/// The error a document gets when its `reset.mode` cannot run on `provider` (`None` when it
/// fits), placed at `reset.mode` in `yaml` when given. The admin API checks it against the
/// stored binding; `passgate tenant validate --provider` against the provider named.
pub fn provider_problem(
    config: &TenantConfig,
    provider: ProviderFamily,
    yaml: Option<&str>,
) -> Option<Problem> {
    let mismatch = check_mode_fits(config.reset.mode, provider).err()?;
    let (line, column) = yaml.map_or((1, 1), |yaml| position_in(yaml, "reset", "mode"));
    Some(Problem {
        path: "reset.mode".to_owned(),
        line,
        column,
        message: mismatch.to_string(),
        severity: Severity::Error,
    })
}

/// Line and column of a top-level key in `yaml` (1:1 when absent), for problems found
/// after the parse.
pub(crate) fn position_of(yaml: &str, key: &str) -> (usize, usize) {
    yaml.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or((1, 1), |i| (i + 1, 1))
}

/// Line and column of `parent.key` in block style (`email:` then an indented `from:`); the
/// parent's position when the key is not found that way (flow style), 1:1 when neither is.
pub(crate) fn position_in(yaml: &str, parent: &str, key: &str) -> (usize, usize) {
    let (parent_line, _) = position_of(yaml, parent);
    for (i, line) in yaml.lines().enumerate().skip(parent_line) {
        let trimmed = line.trim_start();
        if !line.starts_with([' ', '\t']) && !trimmed.is_empty() && !trimmed.starts_with('#') {
            break; // the next top-level key: the parent block has ended
        }
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
        {
            return (i + 1, line.len() - trimmed.len() + 1);
        }
    }
    (parent_line, 1)
}

/// An error at the top-level `key` of `yaml`, reported under `path`.
pub(crate) fn problem_at(yaml: &str, key: &str, path: &str, message: String) -> Problem {
    let (line, column) = position_of(yaml, key);
    Problem {
        path: path.to_owned(),
        line,
        column,
        message,
        severity: Severity::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_top_level_keys() {
        let yaml = "# c\nid: a\nclient_ids: [x]\n";
        assert_eq!(position_of(yaml, "id"), (2, 1));
        assert_eq!(position_of(yaml, "client_ids"), (3, 1));
        assert_eq!(position_of(yaml, "theme"), (1, 1));
    }

    #[test]
    fn nested_positions_point_at_the_key_inside_its_block() {
        let yaml = "id: a\nfrom: x\nemail:\n  # sender\n  subject: {}\n  from: A <a@b.example>\nreset: {}\n";
        assert_eq!(position_in(yaml, "email", "from"), (6, 3));
        let flow = "id: a\nemail: {from: a@b.example}\nfrom: x\n";
        assert_eq!(position_in(flow, "email", "from"), (2, 1));
    }
}
