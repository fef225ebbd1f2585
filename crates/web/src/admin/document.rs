//! The checks of one tenant document: the tenant crate's parse (schema, bounds, regexes,
//! script and its examples), then what only the admin layer knows: the document's `id` is
//! the tenant in the path, its `client_ids` are registered to this tenant, its sender is on
//! a domain a platform admin granted, its theme exists and every message the theme and the
//! rules use resolves in every supported locale.

use passgate_tenant::{
    ClientId, Problem, Severity, TenantId, ValidatedTenant, parse_tenant_yaml_for,
};
use passgate_theme::ThemeError;

use super::grants::SenderRule;
use super::state::AdminState;
use crate::problem::ConfigProblem;

/// Line and column of a top-level key in `yaml` (1:1 when absent), for problems this
/// layer finds after the parse.
fn position_of(yaml: &str, key: &str) -> (u32, u32) {
    yaml.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or((1, 1), |i| (u32::try_from(i + 1).unwrap_or(u32::MAX), 1))
}

/// Line and column of `parent.key` in block style (`email:` then an indented `from:`); the
/// parent's position when the key is not found that way (flow style), 1:1 when neither is.
fn position_in(yaml: &str, parent: &str, key: &str) -> (u32, u32) {
    let (parent_line, _) = position_of(yaml, parent);
    let line_no = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
    let start = parent_line as usize;
    for (i, line) in yaml.lines().enumerate().skip(start) {
        let trimmed = line.trim_start();
        if !line.starts_with([' ', '\t']) && !trimmed.is_empty() && !trimmed.starts_with('#') {
            break; // the next top-level key: the parent block has ended
        }
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
        {
            let column = line.len() - trimmed.len() + 1;
            return (line_no(i), u32::try_from(column).unwrap_or(u32::MAX));
        }
    }
    (parent_line, 1)
}

fn problem_at(yaml: &str, key: &str, path: &str, message: String) -> ConfigProblem {
    let (line, column) = position_of(yaml, key);
    ConfigProblem {
        path: path.to_owned(),
        line,
        column,
        message,
        severity: "error".into(),
    }
}

/// Validates `yaml` as the document of `tenant`, whose registered client ids are
/// `registered` and whose sender may use the domains of `senders`. CPU work (the script
/// and its examples are compiled and run): call it through
/// [`super::checks::check_off_executor`], never on an executor thread. `Ok` holds the warnings; `Err` every problem (errors and warnings).
pub fn check_document(
    state: &AdminState,
    tenant: &TenantId,
    registered: &[ClientId],
    senders: &SenderRule,
    yaml: &str,
) -> Result<(ValidatedTenant, Vec<ConfigProblem>), Vec<ConfigProblem>> {
    let source = format!("{tenant}.yaml");
    let validated = parse_tenant_yaml_for(tenant, &source, yaml).map_err(|errors| {
        errors
            .problems
            .iter()
            .map(ConfigProblem::from_problem)
            .collect::<Vec<_>>()
    })?;
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let config = &validated.config;
    if config.id != *tenant {
        problems.push(problem_at(
            yaml,
            "id",
            "id",
            format!(
                "the document's id is `{}` but this is tenant `{tenant}`",
                config.id
            ),
        ));
    }
    for client in &config.client_ids {
        if !registered.contains(client) {
            problems.push(problem_at(
                yaml,
                "client_ids",
                "client_ids",
                format!(
                    "client id `{client}` is not registered to this tenant; a platform admin registers client ids"
                ),
            ));
        }
    }
    if let Some(message) = senders.refusal(config) {
        let (line, column) = position_in(yaml, "email", "from");
        problems.push(ConfigProblem {
            path: "email.from".into(),
            line,
            column,
            message,
            severity: "error".into(),
        });
    }
    let themes = state.themes();
    let theme = config.theme.as_str();
    if themes.has_theme(theme) {
        let crate::startup::TenantCatalogs {
            locales: supported,
            overrides,
        } = crate::startup::TenantCatalogs::of(config);
        match themes.check_tenant(theme, &config.display_name, &supported, &overrides) {
            Ok(()) => {}
            Err(ThemeError::MissingMessages(missing)) => {
                for m in missing {
                    problems.push(problem_at(
                        yaml,
                        "messages",
                        &format!("messages.{}.{}", m.locale, m.key),
                        format!(
                            "no message `{}` in locale `{}` (theme `{}`): add it under messages.{}",
                            m.key, m.locale, m.theme, m.locale
                        ),
                    ));
                }
            }
            Err(other) => problems.push(problem_at(yaml, "theme", "theme", other.to_string())),
        }
        for locale in &supported {
            let catalog = passgate_theme::Messages::new(
                themes,
                theme,
                locale,
                overrides.get(locale).cloned().unwrap_or_default(),
            );
            if let Ok(catalog) = catalog {
                for key in config.referenced_message_keys() {
                    if catalog.get(key).is_none() {
                        problems.push(problem_at(
                            yaml,
                            "messages",
                            &format!("messages.{locale}.{key}"),
                            format!(
                                "the password rule message `{key}` has no text in locale `{locale}`"
                            ),
                        ));
                    }
                }
            }
        }
    } else {
        problems.push(problem_at(
            yaml,
            "theme",
            "theme",
            format!(
                "unknown theme `{theme}`; installed themes: {}",
                themes.names().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let warnings: Vec<ConfigProblem> = validated
        .warnings
        .iter()
        .filter(|p: &&Problem| p.severity == Severity::Warning)
        .map(ConfigProblem::from_problem)
        .collect();
    if problems.is_empty() {
        Ok((validated, warnings))
    } else {
        problems.extend(warnings);
        Err(problems)
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
