//! The checks of one tenant document: the tenant crate's parse (schema, bounds, regexes,
//! script and its examples), then what only the admin layer knows: the document's `id` is
//! the tenant in the path, its `client_ids` are registered to this tenant, its sender is on
//! a domain a platform admin granted; then [`crate::tenant_check`], the check the server
//! runs at startup and `passgate tenant validate` runs too (theme, templates, messages).

use passgate_tenant::{
    ClientId, Problem, Severity, TenantId, ValidatedTenant, parse_tenant_yaml_for,
};

use super::grants::SenderRule;
use super::state::AdminState;

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
pub(super) fn position_in(yaml: &str, parent: &str, key: &str) -> (u32, u32) {
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
use crate::problem::ConfigProblem;
use crate::tenant_check;

fn problem_at(yaml: &str, key: &str, path: &str, message: String) -> ConfigProblem {
    ConfigProblem::from_problem(&tenant_check::problem_at(yaml, key, path, message))
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
        let (line, column) = tenant_check::position_in(yaml, "email", "from");
        problems.push(ConfigProblem::from_problem(&Problem {
            path: "email.from".into(),
            line,
            column,
            message,
            severity: Severity::Error,
        }));
    }
    problems.extend(
        tenant_check::theme_problems(state.themes(), config, Some(yaml))
            .iter()
            .map(ConfigProblem::from_problem),
    );
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
