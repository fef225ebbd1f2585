//! From YAML text to a validated tenant: the size cap, the hardened serde-saphyr options,
//! turning serde errors into positioned [`Problem`]s, validation and the policy compile.

use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, MessageFormatter, Options};

use crate::{
    compile::CompiledPolicy,
    config::TenantConfig,
    error::{ConfigErrors, Problem, Severity},
    ids::TenantId,
    keys, limits,
    positions::{Position, PositionIndex},
    raw::RawTenant,
    validate::{self, Collector},
};

/// A tenant document that passed validation: the configuration, its compiled password
/// policy (so callers never compile twice), and the warnings worth showing its author.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidatedTenant {
    /// The configuration.
    pub config: TenantConfig,
    /// The password policy, compiled (regexes built, script compiled and its examples run).
    pub policy: CompiledPolicy,
    /// Problems that do not make the document invalid.
    pub warnings: Vec<Problem>,
}

/// Parses and validates one tenant document. `source_name` (usually the file name) only
/// labels positions in the errors. Every problem is reported at once, each with its key
/// path and `line:column`; see [`ConfigErrors`]'s `Display`. The script (if any) runs as
/// the tenant the document's `id` names; where the caller knows whose document it is (the
/// admin API, the router), use [`parse_tenant_yaml_for`].
pub fn parse_tenant_yaml(source_name: &str, text: &str) -> Result<ValidatedTenant, ConfigErrors> {
    parse(None, source_name, text)
}

/// [`parse_tenant_yaml`] for a document that belongs to `tenant`, whatever its `id` says:
/// its script runs under `tenant`'s cache keys and share of the script pool, so a document
/// naming another tenant cannot spend that tenant's share while it is being validated.
pub fn parse_tenant_yaml_for(
    tenant: &TenantId,
    source_name: &str,
    text: &str,
) -> Result<ValidatedTenant, ConfigErrors> {
    parse(Some(tenant), source_name, text)
}

fn parse(
    owner: Option<&TenantId>,
    source_name: &str,
    text: &str,
) -> Result<ValidatedTenant, ConfigErrors> {
    let fail = |problems: Vec<Problem>| ConfigErrors {
        source_name: source_name.to_owned(),
        problems,
    };
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(fail(vec![document_problem(format!(
            "the document is {} bytes; a tenant document is at most {} KiB",
            text.len(),
            limits::MAX_DOCUMENT_BYTES / 1024
        ))]));
    }
    // Measured on the event stream without expanding aliases, before serde sees anything.
    let index = PositionIndex::build(text);
    if let Some(problem) = shape_problem(&index) {
        return Err(fail(vec![problem]));
    }
    // Every unknown key at once (serde would stop at the first), plus serde's own verdict
    // on everything else.
    let unknown = keys::unknown_keys(&index);
    let parsed = serde_saphyr::from_str_with_options::<RawTenant>(text, options());
    let raw = match parsed {
        Ok(raw) if unknown.is_empty() => raw,
        Ok(_) => return Err(fail(unknown)),
        Err(e) => {
            let serde = serde_problem(&e, &index);
            let mut problems = unknown;
            if !problems
                .iter()
                .any(|p| (p.line, p.column) == (serde.line, serde.column))
            {
                problems.push(serde);
            }
            problems.sort_by_key(|p| (p.line, p.column));
            return Err(fail(problems));
        }
    };

    let mut collector = Collector::new(&index);
    let validated = validate::tenant(raw, owner, &mut collector);
    let problems = collector.into_problems();
    match validated {
        Some((config, policy)) if !problems.iter().any(is_error) => Ok(ValidatedTenant {
            config,
            policy,
            warnings: problems,
        }),
        _ => Err(fail(problems)),
    }
}

/// Too deep, too many aliases, or too big once aliases are expanded (billion laughs).
fn shape_problem(index: &PositionIndex) -> Option<Problem> {
    if let Some(at) = index.too_deep {
        return Some(Problem {
            path: index.path_at(at),
            line: at.line,
            column: at.column,
            message: format!(
                "nested more than {} levels deep; a tenant document needs at most 6",
                limits::MAX_DEPTH
            ),
            severity: Severity::Error,
        });
    }
    if index.aliases > limits::MAX_ALIASES {
        return Some(document_problem(format!(
            "the document uses {} aliases (*name); at most {} are allowed",
            index.aliases,
            limits::MAX_ALIASES
        )));
    }
    if index.expanded_nodes > limits::MAX_NODES as u64 {
        return Some(document_problem(format!(
            "the document would have {} nodes once its aliases are expanded (an alias bomb?); at most {} are allowed",
            index.expanded_nodes,
            limits::MAX_NODES
        )));
    }
    None
}

fn is_error(p: &Problem) -> bool {
    p.severity == Severity::Error
}

/// The parser settings: safe by default, and stricter than YAML where YAML surprises.
pub(crate) fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = limits::MAX_DEPTH;
    budget.flow_nesting_limit = limits::MAX_DEPTH;
    budget.max_aliases = limits::MAX_ALIASES;
    budget.max_anchors = limits::MAX_ALIASES;
    budget.max_nodes = limits::MAX_NODES;
    budget.max_total_scalar_bytes = limits::MAX_DOCUMENT_BYTES;
    budget.max_reader_input_bytes = Some(limits::MAX_DOCUMENT_BYTES);

    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = limits::MAX_ALIAS_REPLAYED_EVENTS;
    options.alias_limits.max_replay_stack_depth = limits::MAX_DEPTH;
    // `NO`, `off`, `y` stay strings (the "Norway problem"); only true/false are booleans.
    options.strict_booleans = true;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    // `<<` merges would make a key's position ambiguous; tenants have no need for them.
    options.merge_keys = MergeKeyPolicy::Error;
    // `!!python/object`, `!include` and any other application tag: refused, never ignored.
    options.reject_unsupported_tags = true;
    options.reject_tagged_field_names = true;
    options.with_snippet = false;
    options
}

/// A problem about the document as a whole, reported at its start.
fn document_problem(message: String) -> Problem {
    Problem {
        path: String::new(),
        line: Position::START.line,
        column: Position::START.column,
        message,
        severity: Severity::Error,
    }
}

/// A parse or shape error, at its position and with the key path found there.
fn serde_problem(error: &serde_saphyr::Error, index: &PositionIndex) -> Problem {
    let at = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| Position {
            line: usize::try_from(l.line()).unwrap_or(1),
            column: usize::try_from(l.column()).unwrap_or(1).max(1),
        })
        .unwrap_or(Position::START);
    let message = serde_saphyr::UserMessageFormatter
        .format_message(error.without_snippet())
        .into_owned();
    // serde reports a missing field where the mapping ends: name the field itself, at its
    // mapping.
    if let Some(field) = quoted_after(&message, "missing field `") {
        let path = crate::positions::key(&index.collection_at(at), field);
        let at = index.position_of(&path);
        return Problem {
            path,
            line: at.line,
            column: at.column,
            message: format!("the required key `{field}` is missing"),
            severity: Severity::Error,
        };
    }
    Problem {
        path: index.path_at(at),
        line: at.line,
        column: at.column,
        message: with_suggestion(plain_words(&message)),
        severity: Severity::Error,
    }
}

/// The text between `prefix` and the next backtick.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(&rest[..rest.find('`')?])
}

/// Adds "did you mean …?" to an unknown key or value when one expected name is close.
fn with_suggestion(message: String) -> String {
    let found = quoted_after(&message, "unknown field `")
        .or_else(|| quoted_after(&message, "unknown variant `"));
    let (Some(found), Some((_, expected))) = (found, message.split_once("expected one of ")) else {
        return message;
    };
    let names = expected.split(", ").map(|name| name.trim_matches('`'));
    match crate::suggest::closest(found, names) {
        Some(name) => format!("{message} (did you mean `{name}`?)"),
        None => message,
    }
}

/// serde's wording for a wrong scalar type names Rust types; product owners get YAML words.
fn plain_words(message: &str) -> String {
    let replaced = match message {
        m if m.starts_with("invalid i64")
            || m.starts_with("invalid u")
            || m.starts_with("invalid i") =>
        {
            "expected a whole number"
        }
        "expected string scalar" => "expected a text value, found a list or a mapping",
        "expected mapping start" => "expected a mapping (key: value pairs)",
        "unexpected end of file" => {
            "the document is empty: a tenant needs at least id and display_name"
        }
        "expected sequence start" => "expected a list",
        _ => return message.to_owned(),
    };
    replaced.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(
            with_suggestion(
                "unknown field `max_lenght`, expected one of min_length, max_length".into()
            ),
            "unknown field `max_lenght`, expected one of min_length, max_length (did you mean `max_length`?)"
        );
        assert_eq!(
            with_suggestion("unknown variant `hostd`, expected one of hosted, janrain".into()),
            "unknown variant `hostd`, expected one of hosted, janrain (did you mean `hosted`?)"
        );
        let far = "unknown field `colour_scheme`, expected one of id, theme";
        assert_eq!(with_suggestion(far.into()), far);
    }
}
