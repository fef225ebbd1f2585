//! `passgate schema`: prints the tenant YAML's JSON Schema.

use std::process::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate schema` is not built yet (issue 2)")
}
