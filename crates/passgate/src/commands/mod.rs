//! One module per subcommand family. Each `run` returns the process exit code; errors that are
//! not a verdict (I/O, database) bubble up as `anyhow::Error` and exit 2.

use std::process::ExitCode;

use crate::cli::{AdminCommand, Cli, Command, PolicyCommand, TenantCommand};

mod admin;
mod demo;
mod idp_sim;
mod policy_check;
mod registry;
mod schema;
mod serve;
mod validate;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        return demo::run(&crate::cli::DemoArgs::default());
    };
    match command {
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Schema => schema::run(),
        Command::Tenant(TenantCommand::Validate {
            files,
            themes,
            provider,
        }) => validate::run(&files, themes.as_deref(), provider.map(|p| p.family())),
        Command::Tenant(TenantCommand::Import { paths, db }) => registry::import(&paths, &db),
        Command::Tenant(TenantCommand::Export { id, db }) => registry::export(&id, &db),
        Command::Tenant(TenantCommand::List { db }) => registry::list(&db),
        Command::Policy(PolicyCommand::Check { tenant, email }) => {
            policy_check::run(&tenant, email.as_deref())
        }
        Command::Migrate(db) => registry::migrate(&db),
        Command::IdpSim(args) => idp_sim::run(&args),
        Command::Admin(AdminCommand::CreateKey(args)) => admin::create_key(&args),
    }
}
