//! `passgate migrate` and `passgate tenant import|export|list`: the tenant registry in the
//! database.

use std::{path::PathBuf, process::ExitCode};

use crate::cli::DatabaseArgs;

pub fn migrate(_db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate migrate` is not built yet (issue 3)")
}

pub fn import(_paths: &[PathBuf], _db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate tenant import` is not built yet (issue 3)")
}

pub fn export(_id: &str, _db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate tenant export` is not built yet (issue 3)")
}

pub fn list(_db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate tenant list` is not built yet (issue 3)")
}
