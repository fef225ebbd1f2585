//! `passgate policy check --tenant FILE [--email E]`

use std::{path::Path, process::ExitCode};

pub fn run(_tenant: &Path, _email: Option<&str>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate policy check` is not built yet (issue 2)")
}
