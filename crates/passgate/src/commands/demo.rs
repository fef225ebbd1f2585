//! `passgate demo` (and `cargo run` with no arguments): the whole product in one process, for
//! a first look and for the README's examples.
//!
//! - SQLite in a fresh temporary directory, migrated; the example tenants (compiled in, or
//!   the folder given with `--tenants`) imported through the store's import (the same path
//!   as `passgate tenant import`). Themes are the built-in ones unless `--themes` lays a
//!   folder over them, so the binary runs from any directory.
//! - The Auth0/Janrain simulator embedded on a free loopback port, with one seeded user per
//!   tenant and one machine-to-machine client per tenant; each tenant is bound to it
//!   (Janrain-mode tenants to its Janrain endpoints, the others to its Auth0 endpoints) with a
//!   freshly generated client secret, sealed like any other.
//! - Mail kept in memory ([`DevMailbox`]) and shown at `/dev/mailbox` and
//!   `/dev/mailbox.json`: routes that exist only here.
//! - A fresh master key, a fresh platform-admin API key and a tenant-editor key for the
//!   first example tenant (to try `/console` as a product owner), printed once.
//! - The example tenant [`MOVING_TENANT`] is bound to Auth0 and moving from the simulator's
//!   Janrain app (migrate on reset), with one user only in Janrain, one in both, one only in
//!   Auth0 (issue 19; docs/migrating-from-janrain.md).
//!
//! The public URL is `http://<listen address>`, so every link in the mailbox works from the
//! same machine. Nothing survives the process: stop it and everything is gone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use passgate_engine::client_ip::TrustedProxies;
use passgate_engine::mail::DevMailbox;
use passgate_engine::{Clock as _, Keyring, SystemClock, seal_move_secret, seal_provider_secret};
use passgate_idp::HostPolicy;
use passgate_idp_sim::{Auth0Settings, JanrainSettings, SeedUser, SimClient, SimConfig, SimHandle};
use passgate_store::{
    ApiRole, Auth0Binding, JanrainBinding, MailGrantRepo, MovePolicy, MoveSource, ProviderBinding,
    Store, TenantImport, TenantRepo,
};
use passgate_tenant::{ResetMode, TenantConfig, parse_tenant_yaml};
use poem::EndpointExt as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::cli::DemoArgs;
use crate::devmail;
use crate::gateway::{AdminLimits, EngineTuning, Gateway, GatewayParts};
use crate::instruments::Metrics;
use crate::telemetry::{self, LogFormat};

/// The Auth0 database connection of the simulator's default seed.
const AUTH0_CONNECTION: &str = "Username-Password-Authentication";
/// The password every seeded user starts with.
const INITIAL_PASSWORD: &str = "Initial-Passw0rd";
/// The example tenant the demo binds as moving from Janrain to Auth0.
const MOVING_TENANT: &str = "riverline";

/// Where a demo user's account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Auth0,
    Janrain,
    Both,
}

impl Placement {
    fn note(self) -> &'static str {
        match self {
            Self::Auth0 => "only in Auth0",
            Self::Janrain => "only in Janrain",
            Self::Both => "in both",
        }
    }
}

/// Runs the demo until Ctrl-C or SIGTERM.
pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    telemetry::init(LogFormat::Text);
    passgate_idp::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (is another demo running? try --listen 127.0.0.1:0)",
                    args.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let demo = Demo::start(args, addr).await?;
        demo.print_welcome(&mut std::io::stdout().lock())?;
        let Demo {
            gateway, sim, dir, ..
        } = demo;
        gateway
            .run(listener, crate::signals::stop_requested())
            .await?;
        sim.shutdown().await;
        drop(dir);
        Ok(ExitCode::SUCCESS)
    })
}

/// A started demo: the wired gateway (not yet serving), the simulator and what to print.
struct Demo {
    gateway: Gateway,
    sim: SimHandle,
    base: String,
    tenants: Vec<DemoTenant>,
    admin_key: SecretString,
    /// A tenant-editor key for one example tenant (the console's product owner view).
    editor: Option<(passgate_tenant::TenantId, SecretString)>,
    /// Holds the SQLite file; removed when dropped.
    dir: tempfile::TempDir,
}

/// One imported tenant and its seeded user.
struct DemoTenant {
    config: TenantConfig,
    /// Its seeded users and where each lives (one, in its provider, except the moving one).
    users: Vec<(String, Placement)>,
}

impl DemoTenant {
    fn new(config: TenantConfig) -> Self {
        let user = |name: &str, placement| (format!("{name}@{}.example.com", config.id), placement);
        let users = if config.id.as_str() == MOVING_TENANT {
            vec![
                user("ada", Placement::Janrain),
                user("grace", Placement::Both),
                user("alan", Placement::Auth0),
            ]
        } else if is_janrain(&config) {
            vec![user("ada", Placement::Janrain)]
        } else {
            vec![user("ada", Placement::Auth0)]
        };
        Self { config, users }
    }

    fn is_moving(&self) -> bool {
        self.config.id.as_str() == MOVING_TENANT && !is_janrain(&self.config)
    }

    fn emails(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(|(email, _)| email.as_str())
    }
}

impl Demo {
    async fn start(args: &DemoArgs, addr: SocketAddr) -> anyhow::Result<Self> {
        let base = format!("http://{addr}");
        let dir = tempfile::Builder::new()
            .prefix("passgate-demo-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("demo.sqlite").display()
        );
        let store = Store::connect(&url)
            .await
            .context("cannot open the demo database")?;
        store
            .migrate()
            .await
            .context("cannot migrate the demo database")?;

        let sources = match &args.tenants {
            Some(dir) => read_tenant_folder(dir)?,
            None => EXAMPLE_TENANTS
                .iter()
                .map(|(name, text)| (format!("(built-in) tenants/{name}"), (*text).to_owned()))
                .collect(),
        };
        if let Some(dir) = args.themes.as_ref().filter(|d| !d.is_dir()) {
            anyhow::bail!(
                "cannot find the themes folder `{}` (from {}); pass --themes a folder of \
                 theme folders, or leave --themes out to use the built-in themes",
                dir.display(),
                current_dir()
            );
        }
        let configs = import_tenants(&store, sources).await?;
        let tenants: Vec<DemoTenant> = configs.into_iter().map(DemoTenant::new).collect();

        let keyring = Keyring::generate("demo").context("cannot generate a master key")?;
        let secrets: Vec<String> = tenants
            .iter()
            .map(|_| match &args.provider_secret {
                Some(fixed) => Ok(fixed.clone()),
                None => random_secret(),
            })
            .collect::<anyhow::Result<_>>()?;
        let console_secret = random_secret()?;
        let sim = passgate_idp_sim::start(sim_config(&tenants, &secrets, &base, &console_secret))
            .await
            .context("cannot start the provider simulator")?;
        // The console's "Sign in with Demo SSO": the simulator's OIDC issuer.
        let console_oidc = crate::gateway::console_oidc(
            &crate::config::ConsoleOidcConfig {
                issuer: sim.oidc_issuer(),
                client_id: DEMO_CONSOLE_CLIENT.into(),
                client_secret: Some(SecretString::from(console_secret)),
                display_name: "Demo SSO".into(),
                role_claim: "passgate_role".into(),
                tenants_claim: "passgate_tenants".into(),
            },
            &base,
            true,
            Duration::from_secs(10),
        )
        .context("cannot configure the console's OIDC sign-in")?;
        let now = SystemClock.now();
        for (tenant, secret) in tenants.iter().zip(&secrets) {
            bind_provider(&store, &keyring, &sim, tenant, secret, now).await?;
            // Test emails of the demo may go to the tenant's demo users (the dev mailbox).
            let recipients: Vec<String> = tenant.emails().map(str::to_owned).collect();
            store
                .add_mail_grants(
                    &tenant.config.id,
                    passgate_store::MailGrant::TestRecipient,
                    &recipients,
                    now,
                )
                .await
                .context("cannot allow the demo user as a test recipient")?;
        }
        let (_, minted) = passgate_web::admin::auth::create_key(
            &store,
            ApiRole::PlatformAdmin,
            Vec::new(),
            "demo".into(),
            now,
        )
        .await
        .context("cannot create the demo admin key")?;
        // A product owner's key for the first example tenant, to try the console with.
        let editor = match tenants.first() {
            Some(first) => {
                let id = first.config.id.clone();
                let (_, minted) = passgate_web::admin::auth::create_key(
                    &store,
                    ApiRole::TenantEditor,
                    vec![id.clone()],
                    format!("demo product owner of {}", id.as_str()),
                    now,
                )
                .await
                .context("cannot create the demo product owner key")?;
                Some((id, minted.secret))
            }
            None => None,
        };

        let mailbox = DevMailbox::new();
        let gateway = Gateway::build(GatewayParts {
            store,
            keyring,
            transport: Arc::new(mailbox.clone()),
            public_url: base.clone(),
            trusted_proxies: TrustedProxies::none(),
            provider_hosts: HostPolicy {
                custom_domains: Vec::new(),
                allow_insecure_loopback_for_tests: true,
            },
            themes_dir: args.themes.clone(),
            swagger_ui: true,
            admin_limits: AdminLimits::default(),
            console: passgate_web::console::ConsoleSettings::default(),
            console_oidc: Some(console_oidc),
            metrics: Metrics::global(),
            extra_routes: vec![(
                "/dev".into(),
                devmail::routes(mailbox).map_to_response().boxed(),
            )],
            shutdown_grace: Duration::from_secs(5),
            mail_from: None,
            tuning: EngineTuning::default(),
        })
        .await?;
        Ok(Self {
            gateway,
            sim,
            base,
            tenants,
            admin_key: minted.secret,
            editor,
            dir,
        })
    }

    fn print_welcome(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let base = &self.base;
        writeln!(out)?;
        writeln!(out, "Passgate demo running at {base}")?;
        writeln!(out)?;
        writeln!(out, "Reset pages (one per example tenant):")?;
        for tenant in &self.tenants {
            let config = &tenant.config;
            let client = config
                .client_ids
                .first()
                .map(|c| c.as_str())
                .unwrap_or_default();
            let users = if tenant.is_moving() {
                let each: Vec<String> = tenant
                    .users
                    .iter()
                    .map(|(email, placement)| format!("{email} {}", placement.note()))
                    .collect();
                format!("moving from Janrain to Auth0; users {}", each.join(", "))
            } else {
                format!("user {}", tenant.emails().collect::<Vec<_>>().join(", "))
            };
            writeln!(
                out,
                "  {:<12} {base}/reset?client_id={client}   ({}; {users})",
                config.id.as_str(),
                mode_note(config),
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "Mailbox (mail the demo would send):  {base}/dev/mailbox"
        )?;
        writeln!(
            out,
            "Admin API (Swagger UI):              {base}/admin/docs"
        )?;
        writeln!(
            out,
            "Health, readiness, metrics:          {base}/healthz  {base}/readyz  {base}/metrics"
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "Console (product owners, platform admins): {base}/console/"
        )?;
        writeln!(out)?;
        writeln!(out, "Demo admin API key (platform-admin, shown once):")?;
        writeln!(out, "  {}", self.admin_key.expose_secret())?;
        if let Some((tenant, key)) = &self.editor {
            writeln!(
                out,
                "Product owner key (tenant-editor of {}, shown once; sign in at {base}/console/):",
                tenant.as_str()
            )?;
            writeln!(out, "  {}", key.expose_secret())?;
        }
        writeln!(
            out,
            "Or \"Sign in with Demo SSO\" on the console (the simulator's OIDC provider: a \
             product owner and a platform admin to choose from)."
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "Seeded users (password {INITIAL_PASSWORD:?} before you reset it): {}",
            self.tenants
                .iter()
                .flat_map(DemoTenant::emails)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(out, "Simulated identity provider: {}", self.sim.base_url)?;
        writeln!(out)?;
        writeln!(
            out,
            "Everything lives in memory and a temporary directory; Ctrl-C stops and forgets it."
        )?;
        out.flush()
    }
}

fn mode_note(config: &TenantConfig) -> String {
    let delivery = match config.reset.delivery {
        passgate_tenant::Delivery::Link => "link",
        passgate_tenant::Delivery::Code => "code",
    };
    match config.reset.mode {
        ResetMode::Hosted => format!("hosted, {delivery} by mail"),
        ResetMode::Auth0Ticket => "auth0_ticket: the mail links to the provider's own page".into(),
        ResetMode::Auth0Email => "auth0_email: the provider sends the mail".into(),
        ResetMode::Janrain => "janrain".into(),
    }
}

/// The example tenants of the repository's `tenants/` folder, compiled in (a test keeps
/// this list equal to the folder).
const EXAMPLE_TENANTS: [(&str, &str); 4] = [
    (
        "acme-shop.yaml",
        include_str!("../../../../tenants/acme-shop.yaml"),
    ),
    (
        "fitlife.yaml",
        include_str!("../../../../tenants/fitlife.yaml"),
    ),
    (
        "northbank.yaml",
        include_str!("../../../../tenants/northbank.yaml"),
    ),
    (
        "riverline.yaml",
        include_str!("../../../../tenants/riverline.yaml"),
    ),
];

/// The current directory for messages about relative paths.
fn current_dir() -> String {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "an unknown directory".into())
}

/// Every `*.yaml`/`*.yml` in `dir` as (file name for messages, text), sorted by name.
fn read_tenant_folder(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "cannot list the tenants folder `{}` (from {}); pass --tenants a folder of \
                 tenant YAML files, or leave --tenants out to use the built-in example tenants",
                dir.display(),
                current_dir()
            )
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no tenant files (*.yaml) in `{}`; pass --tenants a folder of tenant YAML files, \
             or leave --tenants out to use the built-in example tenants",
            dir.display()
        );
    }
    files
        .iter()
        .map(|file| {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
            Ok((name, text))
        })
        .collect()
}

/// Imports every tenant document in one transaction; every problem at once.
async fn import_tenants(
    store: &Store,
    sources: Vec<(String, String)>,
) -> anyhow::Result<Vec<TenantConfig>> {
    let mut items = Vec::new();
    let mut configs = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in sources {
        match parse_tenant_yaml(&name, &text) {
            Ok(valid) => {
                items.push(TenantImport {
                    id: valid.config.id.clone(),
                    display_name: valid.config.display_name.clone(),
                    client_ids: valid.config.client_ids.clone(),
                    yaml: text,
                });
                configs.push(valid.config);
            }
            Err(errors) => problems.extend(
                errors
                    .problems
                    .iter()
                    .map(|p| p.display_in(&name).to_string()),
            ),
        }
    }
    if !problems.is_empty() {
        anyhow::bail!("invalid tenant files:\n  {}", problems.join("\n  "));
    }
    let now = SystemClock.now();
    store
        .import_tenants(items, "demo", now)
        .await
        .context("cannot import the example tenants")?;
    let senders: Vec<_> = configs
        .iter()
        .filter_map(super::registry::own_sender_domain)
        .collect();
    super::registry::grant_own_sender_domains(store, &senders, now).await?;
    Ok(configs)
}

/// One Auth0 and one Janrain client per tenant (secret freshly generated), one user each.
/// The Auth0 application (with the database connection) of a demo tenant: the binding's
/// `app_client_id`, as production tenants have one besides the M2M client.
fn app_client_id(tenant: &TenantConfig) -> String {
    format!("demo-{}-app", tenant.id)
}

/// The console's client id at the simulator's OIDC issuer.
const DEMO_CONSOLE_CLIENT: &str = "passgate-console";

/// The people of the demo's identity provider: a product owner of the first example
/// tenant and a platform admin.
fn console_people(tenants: &[DemoTenant]) -> Vec<passgate_idp_sim::OidcPerson> {
    let person =
        |subject: &str, name: String, claims: serde_json::Value| passgate_idp_sim::OidcPerson {
            subject: subject.into(),
            email: format!("{subject}@example.com"),
            name,
            claims: claims.as_object().cloned().unwrap_or_default(),
        };
    let mut people = Vec::new();
    if let Some(first) = tenants.first() {
        let id = first.config.id.as_str();
        people.push(person(
            "priya",
            format!("Priya Patel (product owner of {id})"),
            serde_json::json!({ "passgate_role": "tenant-editor", "passgate_tenants": [id] }),
        ));
    }
    people.push(person(
        "pat",
        "Pat Okafor (platform admin)".into(),
        serde_json::json!({ "passgate_role": "platform-admin" }),
    ));
    people
}

fn sim_config(
    tenants: &[DemoTenant],
    secrets: &[String],
    base: &str,
    console_secret: &str,
) -> SimConfig {
    // The M2M client reads and writes users; like a production one it has no connection.
    // A moving tenant's also creates them (migrate on reset).
    let client = |tenant: &DemoTenant, secret: &String| {
        let mut scopes = passgate_idp_sim::passgate_scopes();
        if tenant.is_moving() {
            scopes.extend(passgate_idp_sim::MOVE_SCOPES.map(String::from));
            scopes.sort();
            scopes.dedup();
        }
        SimClient {
            client_id: format!("demo-{}", tenant.config.id),
            client_secret: secret.clone(),
            scopes,
            enabled_connections: Vec::new(),
            login_uri: None,
        }
    };
    // A moving tenant's Janrain server client (feature `owner`): entity read and update.
    let owner = |tenant: &DemoTenant, secret: &String| SimClient {
        client_id: move_client_id(&tenant.config),
        client_secret: secret.clone(),
        scopes: vec![passgate_idp_sim::JANRAIN_OWNER.into()],
        enabled_connections: Vec::new(),
        login_uri: None,
    };
    // The app's own application sends change_password (auth0_email mode).
    let app = |tenant: &DemoTenant| SimClient {
        client_id: app_client_id(&tenant.config),
        client_secret: format!("unused-{}", tenant.config.id),
        scopes: Vec::new(),
        enabled_connections: vec![passgate_idp_sim::DEFAULT_CONNECTION.into()],
        login_uri: None,
    };
    // Each Janrain tenant's Capture client mails the demo's landing page for its app.
    let client_password_recover_urls = tenants
        .iter()
        .filter(|t| is_janrain(&t.config))
        .filter_map(|t| {
            let app = t.config.client_ids.first()?;
            let landing = format!("{base}/reset/janrain?client_id={app}");
            Some((format!("demo-{}", t.config.id), landing))
        })
        .collect();
    let janrain = JanrainSettings {
        client_password_recover_urls,
        ..JanrainSettings::default()
    };
    let seed = |email: &str, connection: Option<String>| SeedUser {
        email: email.to_owned(),
        user_id: None,
        connection,
        name: Some(display_name_of(email)),
        blocked: false,
        email_verified: true,
        password: Some(INITIAL_PASSWORD.into()),
    };
    let users = tenants
        .iter()
        .flat_map(|tenant| tenant.users.iter())
        .flat_map(|(email, placement)| {
            let in_janrain = seed(email, Some(janrain.connection.clone()));
            let in_auth0 = seed(email, None);
            match placement {
                Placement::Auth0 => vec![in_auth0],
                Placement::Janrain => vec![in_janrain],
                Placement::Both => vec![in_auth0, in_janrain],
            }
        })
        .collect();
    SimConfig {
        auth0: Auth0Settings {
            clients: tenants
                .iter()
                .zip(secrets)
                .map(|(t, s)| client(t, s))
                .chain(tenants.iter().map(app))
                .collect(),
            // Tenants revoke sessions by default: an Enterprise-plan tenant; the demo's
            // tickets carry result_url, which only Classic Universal Login honours.
            plan: passgate_idp_sim::Plan::Enterprise,
            universal_login: passgate_idp_sim::UniversalLogin::Classic,
            ..Auth0Settings::default()
        },
        janrain: JanrainSettings {
            clients: tenants
                .iter()
                .zip(secrets)
                .map(|(t, s)| client(t, s))
                .chain(
                    tenants
                        .iter()
                        .zip(secrets)
                        .filter(|(t, _)| t.is_moving())
                        .map(|(t, s)| owner(t, s)),
                )
                .collect(),
            ..janrain
        },
        users,
        oidc: Some(passgate_idp_sim::OidcSettings {
            clients: vec![passgate_idp_sim::OidcClient {
                client_id: DEMO_CONSOLE_CLIENT.into(),
                client_secret: Some(console_secret.to_owned()),
                redirect_uris: vec![format!(
                    "{}{}/oidc/callback",
                    base.trim_end_matches('/'),
                    passgate_web::console::BASE
                )],
                id_token_signed_response_alg: None,
            }],
            people: console_people(tenants),
        }),
    }
}

/// "Ada Lovelace" for `ada@…`: the demo's users are named after computing pioneers.
fn display_name_of(email: &str) -> String {
    match email.split('@').next() {
        Some("grace") => "Grace Hopper".into(),
        Some("alan") => "Alan Turing".into(),
        _ => "Ada Lovelace".into(),
    }
}

/// The Janrain server client of a moving tenant.
fn move_client_id(tenant: &TenantConfig) -> String {
    format!("demo-{}-owner", tenant.id)
}

fn is_janrain(config: &TenantConfig) -> bool {
    matches!(config.reset.mode, ResetMode::Janrain)
}

/// Binds `tenant` to the simulator and stores its sealed client secret.
async fn bind_provider(
    store: &Store,
    keyring: &Keyring,
    sim: &SimHandle,
    tenant: &DemoTenant,
    secret: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let id = &tenant.config.id;
    let janrain = is_janrain(&tenant.config);
    let client_id = format!("demo-{id}");
    let binding = if janrain {
        ProviderBinding::Janrain(JanrainBinding::new(sim.janrain_base_url.clone(), client_id))
    } else {
        ProviderBinding::Auth0(Auth0Binding {
            app_client_id: Some(app_client_id(&tenant.config)),
            ..Auth0Binding::new(sim.base_url.clone(), AUTH0_CONNECTION, client_id)
        })
    };
    store.set_provider(id, binding, now).await?;
    let sealed = seal_provider_secret(keyring, id, &SecretString::from(secret.to_owned()))
        .context("cannot seal a provider secret")?;
    store.set_provider_secret(id, Some(sealed), now).await?;
    if tenant.is_moving() {
        let source = MoveSource {
            domain: sim.janrain_base_url.clone(),
            client_id: move_client_id(&tenant.config),
            policy: MovePolicy {
                migrate_on_reset: true,
                ..MovePolicy::default()
            },
        };
        let sealed = seal_move_secret(keyring, id, &SecretString::from(secret.to_owned()))
            .context("cannot seal the move's Janrain secret")?;
        store.set_move(id, Some((source, sealed)), now).await?;
    }
    Ok(())
}

/// 32 random bytes, base64url: a provider client secret nobody typed.
fn random_secret() -> anyhow::Result<String> {
    use rand::TryRng as _;
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the operating system's random source failed"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command, DemoArgs};

    #[test]
    fn no_subcommand_means_the_demo_on_port_8080() {
        let cli = Cli::try_parse_from(["passgate"]).unwrap();
        assert!(
            cli.command.is_none(),
            "`cargo run` with no arguments runs the demo"
        );
        assert_eq!(DemoArgs::default().listen, "127.0.0.1:8080");
        let Some(Command::Demo(args)) = Cli::try_parse_from(["passgate", "demo"]).unwrap().command
        else {
            panic!("`passgate demo` parses as the demo");
        };
        assert_eq!(args.listen, DemoArgs::default().listen);
        assert_eq!(args.tenants, DemoArgs::default().tenants);
        assert_eq!(
            args.tenants, None,
            "the built-in example tenants by default"
        );
        assert_eq!(args.themes, None, "the built-in themes by default");
    }

    #[test]
    fn the_compiled_in_examples_are_exactly_the_tenants_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_str().unwrap().to_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        on_disk.sort();
        let built: Vec<(String, String)> = super::EXAMPLE_TENANTS
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        assert_eq!(on_disk, built, "update EXAMPLE_TENANTS in demo.rs");
    }
}
