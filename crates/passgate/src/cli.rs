//! The clap command tree. Names, flags and defaults here are interfaces users' scripts depend
//! on: change them only with the issue that defines them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Passgate: a self-hosted, multi-tenant password-reset gateway.
#[derive(Debug, Parser)]
#[command(name = "passgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do; none runs the demo (so `cargo run` shows the product).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole product in one process (SQLite in a temporary directory, the example
    /// tenants, the provider simulator, an in-memory mailbox at /dev/mailbox). The default.
    Demo(DemoArgs),
    /// Run the gateway from a config file and `PASSGATE_*` environment variables.
    Serve(ServeArgs),
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
    /// Administer the admin API (bootstrap API keys).
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `passgate admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Mint an admin API key and print it once on stdout (only its hash is stored).
    CreateKey(CreateKeyArgs),
}

/// A key's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyRole {
    /// Everything: tenants, provider credentials, keys, every audit log.
    PlatformAdmin,
    /// Read, validate, write, preview and roll back the config of the `--tenant`s.
    TenantEditor,
}

/// `passgate admin create-key`
#[derive(Debug, Clone, Args)]
pub struct CreateKeyArgs {
    /// The key's role.
    #[arg(long, value_enum)]
    pub role: KeyRole,
    /// A tenant a `tenant-editor` key may edit (repeat for several).
    #[arg(long = "tenant", value_name = "ID")]
    pub tenants: Vec<String>,
    /// Whose key it is (shown in audit events).
    #[arg(long, default_value = "bootstrap")]
    pub label: String,
    /// The holder's own address: test emails sent with this key may go there (only its
    /// SHA-256 is stored).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// An identity provider named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// Auth0.
    Auth0,
    /// Janrain / Akamai Identity Cloud.
    Janrain,
}

impl ProviderArg {
    /// The provider family the tenant crate checks modes against.
    pub fn family(self) -> passgate_tenant::ProviderFamily {
        match self {
            Self::Auth0 => passgate_tenant::ProviderFamily::Auth0,
            Self::Janrain => passgate_tenant::ProviderFamily::Janrain,
        }
    }
}

/// `passgate tenant …`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Validate tenant YAML files (schema, rules, and the theme check the server runs);
    /// prints `FILE:LINE:COL: key.path: message` per problem and exits 1 when any file is
    /// invalid.
    Validate {
        /// Tenant YAML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The folder of theme folders the server lays over the built-in themes (its
        /// `themes_dir`): each tenant's theme, templates and messages are checked against
        /// it exactly as the server checks them at startup and on admin writes.
        #[arg(long, env = "PASSGATE_THEMES_DIR", value_name = "DIR")]
        themes: Option<PathBuf>,
        /// The identity provider the tenants are (or will be) bound to: each file's
        /// `reset.mode` must run on it, as the admin API checks against the stored binding.
        /// Without it the fit is not checked (the binding lives in the database).
        #[arg(long, value_enum, value_name = "PROVIDER")]
        provider: Option<ProviderArg>,
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

/// `passgate demo`
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Address to listen on; links in the mailbox use `http://<this address>`. Port 0 picks
    /// a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A folder of tenant YAML files to import instead of the built-in example tenants.
    #[arg(long)]
    pub tenants: Option<PathBuf>,
    /// A folder of theme folders laid over the built-in themes, file by file.
    #[arg(long)]
    pub themes: Option<PathBuf>,
    /// Use this client secret for every tenant's simulated provider instead of a random one
    /// (for tests that scan the output for it).
    #[arg(long, hide = true)]
    pub provider_secret: Option<String>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            tenants: None,
            themes: None,
            provider_secret: None,
        }
    }
}

/// `passgate serve`
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The server config file (TOML, or YAML by its `.yaml`/`.yml` extension). `PASSGATE_*`
    /// environment variables override its keys; see docs/server-config.md.
    #[arg(long, env = "PASSGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate the configuration, print every problem, and exit (0 when valid).
    #[arg(long)]
    pub check: bool,
}
