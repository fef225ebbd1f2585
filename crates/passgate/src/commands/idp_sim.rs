//! `passgate idp-sim --listen ADDR --users FILE`: runs the Auth0/Janrain simulator until
//! Ctrl-C, printing the address it bound (port 0 picks a free one) so scripts can read it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use passgate_idp_sim::SimConfig;

use crate::cli::IdpSimArgs;

/// Starts the simulator and serves until Ctrl-C (or SIGTERM, for scripts and containers).
pub fn run(args: &IdpSimArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.users {
        Some(path) => SimConfig::from_file(path)?,
        None => SimConfig::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let sim = passgate_idp_sim::start_on(&args.listen, config).await?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "idp-sim listening on {}", sim.base_url)?;
        writeln!(stdout, "janrain endpoints under {}", sim.janrain_base_url)?;
        writeln!(stdout, "control API under {}/_sim/", sim.base_url)?;
        stdout.flush()?;
        drop(stdout);
        wait_for_stop().await?;
        sim.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn wait_for_stop() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
