//! `passgate schema`: prints the tenant YAML's JSON Schema, for editors
//! (`# yaml-language-server: $schema=…`) and for `docs/tenant.schema.json`.

use std::{io::Write, process::ExitCode};

/// Prints the schema to stdout.
pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(passgate_tenant::json_schema_string().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
