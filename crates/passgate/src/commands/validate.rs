//! `passgate tenant validate FILE...`

use std::{path::PathBuf, process::ExitCode};

pub fn run(_files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate tenant validate` is not built yet (issue 2)")
}
