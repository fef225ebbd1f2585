//! `passgate idp-sim --listen ADDR --users FILE`

use std::process::ExitCode;

use crate::cli::IdpSimArgs;

pub fn run(_args: &IdpSimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`passgate idp-sim` is not built yet (issue 4)")
}
