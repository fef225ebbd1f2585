//! The `passgate` command line: the gateway, its tools for operators and product owners, and
//! the provider simulator.
//!
//! # Layout
//! - [`cli`]: the clap command tree (every subcommand, flag and default in one place).
//! - [`commands`]: one module per subcommand family; each returns the process exit code.
//! - `serve` and `demo` wiring: [`config`] (the server configuration, file plus
//!   `PASSGATE_*`), [`gateway`] (store, routing, engine, workers, web app; run and graceful
//!   shutdown), [`telemetry`] (logs), [`instruments`] and [`metered`] (Prometheus metrics),
//!   [`directory`] (the counted tenant directory), [`health`] (`/healthz`, `/readyz`),
//!   [`devmail`] (the demo's `/dev/mailbox`), [`signals`] (SIGTERM and Ctrl-C).

mod cli;
mod commands;
// serve and demo wiring (issue 8)
mod config;
mod devmail;
mod directory;
mod gateway;
mod health;
mod instruments;
mod metered;
mod signals;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: a page request allocates and frees its body, headers
/// and strings on whichever worker thread runs it, where glibc's arenas spent about a sixth
/// of the CPU (docs/benchmarks.md, "Load").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("passgate: {err:#}");
            ExitCode::from(2)
        }
    }
}
