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
