//! `passgate tenant validate FILE... [--themes DIR] [--provider auth0|janrain]`: checks tenant
//! YAML files (or every `*.yaml`/`*.yml` in a directory) — the parse, then the server's own
//! tenant check ([`passgate_web::tenant_check`]: theme installed, templates and messages
//! resolve, and with `--provider` the reset mode's fit to that provider) against the
//! built-in themes with `DIR` laid over them — and prints each problem as
//! `FILE:LINE:COL: key.path: message`, warnings as `…: warning: message`, and `FILE: ok`
//! for each valid file. Exit 1 when any file is invalid; two files claiming the same tenant
//! id or client id also make the set invalid.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use passgate_tenant::{Problem, ProviderFamily, Severity, ValidatedTenant, parse_tenant_yaml};
use passgate_theme::Themes;
use passgate_web::tenant_check::{provider_problem, theme_problems};

/// Validates every file (against `provider` too, when named); the exit code is the verdict.
pub fn run(
    paths: &[PathBuf],
    themes_dir: Option<&Path>,
    provider: Option<ProviderFamily>,
) -> anyhow::Result<ExitCode> {
    let themes = match themes_dir {
        Some(dir) => Themes::builtin_with_overrides(dir)
            .with_context(|| format!("cannot load the themes in {}", dir.display()))?,
        None => Themes::builtin().context("cannot load the built-in themes")?,
    };
    let files = expand(paths)?;
    // Written with `?`, not `println!`: a closed pipe (`| head`) ends the command quietly
    // instead of panicking.
    let mut out = std::io::stdout().lock();
    let mut invalid = 0usize;
    // Tenant id / client id → the file that claimed it first.
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for file in &files {
        let name = file.display().to_string();
        match validate_file(&themes, provider, file, &name)? {
            Ok(tenant) => {
                let mut clashes = Vec::new();
                let id = format!("tenant id {}", tenant.config.id);
                let clients = tenant
                    .config
                    .client_ids
                    .iter()
                    .map(|c| format!("client id {c}"));
                for claim in std::iter::once(id).chain(clients) {
                    if let Some(other) = claimed.get(&claim) {
                        clashes.push(format!("{name}: the {claim} is also used by {other}"));
                    } else {
                        claimed.insert(claim, name.clone());
                    }
                }
                print_problems(&mut out, &name, &tenant.warnings)?;
                if clashes.is_empty() {
                    let warnings = tenant.warnings.len();
                    match warnings {
                        0 => writeln!(out, "{name}: ok")?,
                        1 => writeln!(out, "{name}: ok (1 warning)")?,
                        n => writeln!(out, "{name}: ok ({n} warnings)")?,
                    }
                } else {
                    invalid += 1;
                    for clash in &clashes {
                        writeln!(out, "{clash}")?;
                    }
                }
            }
            Err(problems) => {
                invalid += 1;
                print_problems(&mut out, &name, &problems)?;
                let errors = problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .count();
                writeln!(
                    out,
                    "{name}: invalid ({errors} error{})",
                    if errors == 1 { "" } else { "s" }
                )?;
            }
        }
    }
    Ok(if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads and validates one file. The outer error is I/O (exit 2), the inner the verdict.
fn validate_file(
    themes: &Themes,
    provider: Option<ProviderFamily>,
    path: &Path,
    name: &str,
) -> anyhow::Result<Result<ValidatedTenant, Vec<Problem>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(Err(vec![Problem {
            path: String::new(),
            line: 1,
            column: 1,
            message: "the file is not valid UTF-8".to_owned(),
            severity: Severity::Error,
        }]));
    };
    let tenant = match parse_tenant_yaml(name, &text) {
        Ok(tenant) => tenant,
        Err(errors) => return Ok(Err(errors.problems)),
    };
    let mut problems = theme_problems(themes, &tenant.config, Some(&text));
    problems.extend(provider.and_then(|p| provider_problem(&tenant.config, p, Some(&text))));
    if problems.is_empty() {
        return Ok(Ok(tenant));
    }
    problems.extend(tenant.warnings);
    Ok(Err(problems))
}

fn print_problems(out: &mut impl Write, name: &str, problems: &[Problem]) -> std::io::Result<()> {
    for problem in problems {
        writeln!(out, "{}", problem.display_in(name))?;
    }
    Ok(())
}

/// Files as given; directories replaced by their `*.yaml`/`*.yml` files, sorted.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
