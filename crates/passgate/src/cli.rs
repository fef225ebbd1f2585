//! The clap command tree. Names, flags and defaults here are interfaces users' scripts depend
//! on: change them only with the issue that defines them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Passgate: a self-hosted, multi-tenant password-reset gateway.
#[derive(Debug, Parser)]
#[command(name = "passgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the JSON Schema of the tenant YAML (for `# yaml-language-server: $schema=…`).
    Schema,
    /// Work with tenant YAML files and the tenant registry.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Check passwords against a tenant's policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Apply pending database migrations.
    Migrate(DatabaseArgs),
    /// Run the Auth0/Janrain provider simulator standalone.
    IdpSim(IdpSimArgs),
}

/// `passgate tenant …`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Validate tenant YAML files; prints `FILE:LINE:COL: key.path: message` per problem and
    /// exits 1 when any file is invalid.
    Validate {
        /// Tenant YAML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import tenant YAML files or directories, all-or-nothing.
    Import {
        /// Files or directories (every `*.yaml`/`*.yml` inside).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Print a tenant's active YAML.
    Export {
        /// The tenant id.
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List tenants with their status, client ids and active version.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// `passgate policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Read one password from stdin and print its violations (code and English message);
    /// exits 0 when accepted, 1 when rejected.
    Check {
        /// The tenant YAML whose policy applies.
        #[arg(long)]
        tenant: PathBuf,
        /// The user's email, for the personal-information and strength checks.
        #[arg(long)]
        email: Option<String>,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://…`. Defaults to the SQLite file
    /// `passgate.sqlite` in the working directory.
    #[arg(
        long,
        env = "PASSGATE_DATABASE_URL",
        default_value = "sqlite://passgate.sqlite?mode=rwc"
    )]
    pub database_url: String,
}

/// `passgate idp-sim …`
#[derive(Debug, Clone, Args)]
pub struct IdpSimArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// Seeded users (YAML or JSON).
    #[arg(long)]
    pub users: Option<PathBuf>,
}
