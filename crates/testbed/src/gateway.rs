//! [`GatewayProcess`]: one `passgate serve` replica; the CLI set-up steps an operator runs
//! before it (`migrate`, `tenant import`, `admin create-key`); and [`Deployment`]: a whole
//! installation — database, simulator, SMTP sink, the example tenants bound to the simulator,
//! and one or more replicas — started in one call.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use passgate_idp_sim::{Auth0Settings, JanrainSettings, SeedUser, SimClient, SimConfig};
use passgate_tenant::{ResetMode, TenantConfig, parse_tenant_yaml};

use crate::client::AdminClient;
use crate::mail::MailSink;
use crate::process::ManagedChild;
use crate::sim::SimProcess;
use crate::{INITIAL_PASSWORD, MASTER_KEY, PUBLIC_URL};

/// The Auth0 database connection of the simulator's default settings.
pub const AUTH0_CONNECTION: &str = "Username-Password-Authentication";

/// One `passgate serve` process.
#[derive(Debug)]
pub struct GatewayProcess {
    /// The process (its logs are on stderr).
    pub child: ManagedChild,
    /// `http://127.0.0.1:PORT` it is bound to.
    pub base: String,
    env: Vec<(String, String)>,
    passgate: PathBuf,
    workspace: PathBuf,
}

impl GatewayProcess {
    /// Starts `passgate serve` with exactly `env` (plus `PATH`) in `workspace` (for `themes/`)
    /// and waits until it serves.
    pub fn start(
        passgate: &Path,
        workspace: &Path,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(passgate);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(workspace)
            .arg("serve");
        let mut child = ManagedChild::spawn("passgate serve", command)?;
        let line = child.wait_for_line("passgate serving on ", Duration::from_secs(120))?;
        let addr = line
            .split_whitespace()
            .next()
            .context("no address after `passgate serving on`")?;
        Ok(Self {
            child,
            base: format!("http://{addr}"),
            env,
            passgate: passgate.to_owned(),
            workspace: workspace.to_owned(),
        })
    }

    /// Stops it with SIGTERM (graceful drain) and starts it again with the same settings on
    /// a new port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.child.terminate(Duration::from_secs(60))?;
        *self = Self::start(&self.passgate, &self.workspace, self.env.clone())?;
        Ok(())
    }
}

/// Runs `passgate ARGS` against `database_url` and returns stdout; fails with stderr.
pub fn passgate_cli(
    passgate: &Path,
    workspace: &Path,
    database_url: &str,
    args: &[&str],
) -> anyhow::Result<String> {
    let output = Command::new(passgate)
        .args(args)
        .env("PASSGATE_DATABASE_URL", database_url)
        .current_dir(workspace)
        .output()
        .with_context(|| format!("cannot run passgate {args:?}"))?;
    if !output.status.success() {
        bail!(
            "passgate {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What a [`Deployment`] is made of.
#[derive(Debug, Clone)]
pub struct DeploymentOptions {
    /// The `passgate` binary (`env!("CARGO_BIN_EXE_passgate")` in its tests).
    pub passgate: PathBuf,
    /// The workspace root (themes, example tenants).
    pub workspace: PathBuf,
    /// The database URL (see [`crate::TestDatabase`]); migrated here.
    pub database_url: String,
    /// Tenant YAML files to import (the example tenants when empty).
    pub tenant_files: Vec<PathBuf>,
    /// Seeded provider users per tenant: `user{i}@{tenant}.example.com`, `i` from 0.
    pub users_per_tenant: usize,
    /// How many `passgate serve` replicas share the database.
    pub replicas: usize,
    /// Extra `PASSGATE_*` settings for every replica (override the defaults below).
    pub env: Vec<(String, String)>,
    /// The simulated Auth0 plan (its rate limits); `None`: Enterprise (session endpoints).
    pub sim_plan: Option<passgate_idp_sim::Plan>,
    /// Does the simulator enforce its plan's rate limits (real 429s)? Off for benchmarks
    /// that measure Passgate rather than the pacing against a plan.
    pub sim_rate_limits: bool,
}

impl DeploymentOptions {
    /// One replica, the example tenants, 5 users each, on `database_url`.
    pub fn new(
        passgate: impl Into<PathBuf>,
        workspace: impl Into<PathBuf>,
        database_url: &str,
    ) -> Self {
        Self {
            passgate: passgate.into(),
            workspace: workspace.into(),
            database_url: database_url.to_owned(),
            tenant_files: Vec::new(),
            users_per_tenant: 5,
            replicas: 1,
            env: Vec::new(),
            sim_plan: None,
            sim_rate_limits: true,
        }
    }
}

/// One imported tenant as the tests see it.
#[derive(Debug, Clone)]
pub struct DeployedTenant {
    /// The validated configuration.
    pub config: TenantConfig,
    /// Its first client id.
    pub client_id: String,
    /// Its seeded users' emails.
    pub users: Vec<String>,
}

/// A running installation.
#[derive(Debug)]
pub struct Deployment {
    /// The replicas, in start order.
    pub gateways: Vec<GatewayProcess>,
    /// The provider simulator every tenant is bound to.
    pub sim: SimProcess,
    /// The SMTP relay every replica sends through.
    pub mail: MailSink,
    /// A platform-admin API key.
    pub admin_key: String,
    /// The imported tenants.
    pub tenants: Vec<DeployedTenant>,
    /// The options it was started with.
    pub options: DeploymentOptions,
}

impl Deployment {
    /// Migrates, imports the tenants, starts the simulator (seeded with one M2M client and
    /// `users_per_tenant` users per tenant) and the SMTP sink, mints an admin key, starts the
    /// replicas, and binds every tenant to the simulator through the admin API.
    pub fn start(options: DeploymentOptions) -> anyhow::Result<Self> {
        let DeploymentOptions {
            passgate,
            workspace,
            database_url,
            ..
        } = &options;
        let files = if options.tenant_files.is_empty() {
            example_tenants(workspace)?
        } else {
            options.tenant_files.clone()
        };
        let tenants = read_tenants(&files, options.users_per_tenant)?;

        passgate_cli(passgate, workspace, database_url, &["migrate"])?;
        let mut import = vec!["tenant", "import"];
        let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        import.extend(paths.iter().map(String::as_str));
        passgate_cli(passgate, workspace, database_url, &import)?;
        let admin_key = passgate_cli(
            passgate,
            workspace,
            database_url,
            &[
                "admin",
                "create-key",
                "--role",
                "platform-admin",
                "--label",
                "testbed",
            ],
        )?
        .trim()
        .to_owned();

        let sim = SimProcess::start(
            passgate,
            &sim_seed(&tenants, options.sim_plan, options.sim_rate_limits),
        )?;
        let mail = MailSink::start()?;
        let env = replica_env(&options, &mail);
        let mut gateways = Vec::new();
        for _ in 0..options.replicas.max(1) {
            gateways.push(GatewayProcess::start(passgate, workspace, env.clone())?);
        }
        let deployment = Self {
            gateways,
            sim,
            mail,
            admin_key,
            tenants,
            options,
        };
        let admin = deployment.admin(0)?;
        for tenant in &deployment.tenants {
            admin.bind_to_simulator(&tenant.config, &deployment.sim)?;
        }
        Ok(deployment)
    }

    /// The first replica's base URL.
    pub fn base(&self) -> &str {
        self.gateways.first().map_or("", |g| g.base.as_str())
    }

    /// The tenant with this id.
    pub fn tenant(&self, id: &str) -> anyhow::Result<&DeployedTenant> {
        self.tenants
            .iter()
            .find(|t| t.config.id.as_str() == id)
            .with_context(|| format!("no tenant {id} in this deployment"))
    }

    /// An admin API client for replica `replica`.
    pub fn admin(&self, replica: usize) -> anyhow::Result<AdminClient> {
        let gateway = self
            .gateways
            .get(replica)
            .with_context(|| format!("no replica {replica}"))?;
        AdminClient::new(&gateway.base, &self.admin_key)
    }

    /// Every replica's logs, concatenated (for failure messages and secret scans).
    pub fn logs(&self) -> String {
        self.gateways
            .iter()
            .enumerate()
            .map(|(i, g)| format!("--- replica {i} ---\n{}", g.child.stderr()))
            .collect()
    }
}

fn replica_env(options: &DeploymentOptions, mail: &MailSink) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PASSGATE_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("PASSGATE_LISTEN", "127.0.0.1:0".to_owned()),
        ("PASSGATE_DATABASE_URL", options.database_url.clone()),
        ("PASSGATE_MASTER_KEYS", MASTER_KEY.to_owned()),
        ("PASSGATE_SMTP_HOST", "127.0.0.1".to_owned()),
        ("PASSGATE_SMTP_PORT", mail.addr().port().to_string()),
        ("PASSGATE_SMTP_SECURITY", "plain".to_owned()),
        ("PASSGATE_PROVIDER_ALLOW_LOOPBACK_HTTP", "true".to_owned()),
        // Clients are told apart by X-Forwarded-For from the loopback "proxy".
        ("PASSGATE_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ("PASSGATE_LOG_FORMAT", "json".to_owned()),
        ("PASSGATE_SHUTDOWN_GRACE_SECS", "5".to_owned()),
        // Scenarios drive the admin API in bursts with one key; its per-key budgets are
        // tested on their own (crates/web/tests/web/admin_limits.rs).
        ("PASSGATE_ADMIN_REQUESTS_PER_MINUTE", "1000000".to_owned()),
        (
            "PASSGATE_ADMIN_EXPENSIVE_REQUESTS_PER_MINUTE",
            "1000000".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in &options.env {
        env.retain(|(k, _)| k != key);
        env.push((key.clone(), value.clone()));
    }
    env
}

/// The example tenants shipped in `tenants/`.
fn example_tenants(workspace: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace.join("tenants"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_tenants(files: &[PathBuf], users: usize) -> anyhow::Result<Vec<DeployedTenant>> {
    files
        .iter()
        .map(|file| {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
            let config = parse_tenant_yaml(&name, &text)
                .map_err(|e| anyhow::anyhow!("{name} is invalid: {e:?}"))?
                .config;
            let client_id = config
                .client_ids
                .first()
                .map(|c| c.as_str().to_owned())
                .with_context(|| format!("{name} has no client id"))?;
            let users = (0..users)
                .map(|i| format!("user{i}@{}.example.com", config.id.as_str()))
                .collect();
            Ok(DeployedTenant {
                config,
                client_id,
                users,
            })
        })
        .collect()
}

/// The M2M client id and secret the simulator knows for `tenant`.
pub fn sim_credentials(tenant: &TenantConfig) -> (String, String) {
    let id = tenant.id.as_str();
    (format!("tb-{id}"), format!("tb-secret-{id}"))
}

fn is_janrain(config: &TenantConfig) -> bool {
    matches!(config.reset.mode, ResetMode::Janrain)
}

fn sim_seed(
    tenants: &[DeployedTenant],
    plan: Option<passgate_idp_sim::Plan>,
    rate_limits: bool,
) -> SimConfig {
    let clients: Vec<SimClient> = tenants
        .iter()
        .map(|t| {
            let (client_id, client_secret) = sim_credentials(&t.config);
            SimClient {
                client_id,
                client_secret,
                scopes: passgate_idp_sim::passgate_scopes(),
                // The M2M client also sends change_password (no application client id).
                enabled_connections: vec![passgate_idp_sim::DEFAULT_CONNECTION.into()],
                login_uri: None,
            }
        })
        .collect();
    // Each Janrain tenant's Capture client mails Passgate's landing page for its app.
    let client_password_recover_urls = tenants
        .iter()
        .filter(|t| is_janrain(&t.config))
        .map(|t| {
            let landing = format!("{PUBLIC_URL}/reset/janrain?client_id={}", t.client_id);
            (sim_credentials(&t.config).0, landing)
        })
        .collect();
    let janrain = JanrainSettings {
        client_password_recover_urls,
        ..JanrainSettings::default()
    };
    let users = tenants
        .iter()
        .flat_map(|tenant| {
            let connection = is_janrain(&tenant.config).then(|| janrain.connection.clone());
            tenant.users.iter().map(move |email| SeedUser {
                email: email.clone(),
                user_id: None,
                connection: connection.clone(),
                name: Some("Ada Lovelace".into()),
                blocked: false,
                email_verified: true,
                password: Some(INITIAL_PASSWORD.into()),
            })
        })
        .collect();
    SimConfig {
        auth0: Auth0Settings {
            clients: clients.clone(),
            // Tenants revoke sessions by default (Enterprise only); tickets use result_url
            // (Classic Universal Login only).
            plan: plan.unwrap_or(passgate_idp_sim::Plan::Enterprise),
            universal_login: passgate_idp_sim::UniversalLogin::Classic,
            rate_limits,
            ..Auth0Settings::default()
        },
        janrain: JanrainSettings { clients, ..janrain },
        users,
        oidc: None,
    }
}
