//! [`Gateway`]: one running Passgate process, wired from its parts: the store, the routing
//! cache, the engine and its two workers, the hosted pages and public API, the admin API,
//! health and metrics. `serve` and `demo` differ only in the parts they hand in.
//!
//! Shutdown order: stop accepting, drain in-flight requests (bounded by a grace period),
//! then tell the workers to stop after the round in hand (the outbox worker sends what it
//! has claimed) and wait for them. Work left in the
//! database (jobs, mail) is picked up by the next process: nothing is lost.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use passgate_engine::client_ip::TrustedProxies;
use passgate_engine::mail::MailTransport;
use passgate_engine::{
    Clock, Engine, EngineParts, EngineSettings, Keyring, StoredProviders, SystemClock,
    ThemeRenderer,
};
use passgate_idp::{HostPolicy, HttpConfig};
use passgate_routing::{Router, RouterOptions};
use passgate_store::{ConfigVersionRepo, Store, TenantRepo};
use passgate_tenant::{TenantConfig, parse_tenant_yaml};
use passgate_theme::Themes;
use passgate_web::admin::{AdminParts, AdminSettings, AdminState};
use passgate_web::{AppBuilder, AppState, CsrfKey, WebSettings};
use poem::endpoint::BoxEndpoint;
use poem::listener::TcpAcceptor;
use poem::middleware::CatchPanic;
use poem::{EndpointExt, Route, Server};
use tokio::sync::watch;

use crate::directory::CountedTenants;
use crate::health;
use crate::instruments::Metrics;
use crate::metered::{MeteredBackend, MeteredProviders};

/// Everything a gateway is built from.
pub struct GatewayParts {
    /// The database (connected and migrated).
    pub store: Store,
    /// Master keys: sealing, token-hash and CSRF keys derive from them.
    pub keyring: Keyring,
    /// Where mail goes: SMTP in production, the in-memory dev mailbox in the demo.
    pub transport: Arc<dyn MailTransport>,
    /// The public origin links are built from (`https://reset.example.com`).
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Provider hosts allowed besides the platform domains (loopback only in the demo).
    pub provider_hosts: HostPolicy,
    /// A folder laid over the built-in themes (`None`: the built-in themes alone).
    pub themes_dir: Option<PathBuf>,
    /// Serve Swagger UI at `/admin/docs`.
    pub swagger_ui: bool,
    /// Per-API-key budgets of the admin API.
    pub admin_limits: AdminLimits,
    /// `/console` session timeouts.
    pub console: passgate_web::console::ConsoleSettings,
    /// Console sign-in through the company's OIDC provider (`None`: admin keys only).
    pub console_oidc: Option<Arc<passgate_web::console::ConsoleOidc>>,
    /// The Prometheus recorder; `None` serves no `/metrics`.
    pub metrics: Option<Metrics>,
    /// Route trees mounted only by some commands (the demo's `/dev`), outside the pages'
    /// security headers and Host check.
    pub extra_routes: Vec<(String, BoxEndpoint<'static>)>,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Sender when a tenant names none; `None` derives `no-reply@<public host>`.
    pub mail_from: Option<String>,
    /// Platform ceilings and retry bounds the operator may change.
    pub tuning: EngineTuning,
}

/// The admin API budgets `passgate serve` exposes as configuration keys.
#[derive(Debug, Clone, Copy)]
pub struct AdminLimits {
    /// Requests per API key per minute.
    pub requests_per_minute: u32,
    /// Expensive requests (document checks, test emails) per API key per minute.
    pub expensive_requests_per_minute: u32,
}

impl Default for AdminLimits {
    fn default() -> Self {
        let defaults = AdminSettings::default();
        Self {
            requests_per_minute: defaults.requests_per_minute,
            expensive_requests_per_minute: defaults.expensive_requests_per_minute,
        }
    }
}

/// The engine settings `passgate serve` exposes as configuration keys.
#[derive(Debug, Clone, Copy)]
pub struct EngineTuning {
    /// Refused passwords before a link token or code flow is spent.
    pub redeem_max_refusals: u32,
    /// Completion attempts per client IP per hour, across tenants.
    pub redeem_per_ip_per_hour: u32,
    /// Completion attempts per tenant per minute.
    pub redeem_per_tenant_per_minute: u32,
    /// Ceiling of one retry delay of the job and outbox workers.
    pub retry_max_backoff: Duration,
    /// Longest wait for one provider call (connect included).
    pub provider_timeout: Duration,
    /// How long an open circuit stops a tenant's provider calls.
    pub breaker_cooldown: Duration,
}

impl Default for EngineTuning {
    fn default() -> Self {
        let defaults = EngineSettings::new("https://passgate.invalid");
        Self {
            redeem_max_refusals: defaults.redeem_max_refusals,
            redeem_per_ip_per_hour: defaults.redeem_per_ip_per_hour,
            redeem_per_tenant_per_minute: defaults.redeem_per_tenant_per_minute,
            retry_max_backoff: defaults.outbox.max_backoff,
            provider_timeout: HttpConfig::default().total_timeout,
            breaker_cooldown: defaults.breaker_cooldown,
        }
    }
}

impl EngineTuning {
    fn apply(self, settings: &mut EngineSettings) {
        settings.redeem_max_refusals = self.redeem_max_refusals;
        settings.redeem_per_ip_per_hour = self.redeem_per_ip_per_hour;
        settings.redeem_per_tenant_per_minute = self.redeem_per_tenant_per_minute;
        for worker in [&mut settings.jobs, &mut settings.outbox] {
            *worker = worker.with_max_backoff(self.retry_max_backoff);
        }
        settings.breaker_cooldown = self.breaker_cooldown;
    }

    /// The provider HTTP settings: the default retries within the configured timeout.
    fn http(self) -> HttpConfig {
        let defaults = HttpConfig::default();
        HttpConfig {
            connect_timeout: defaults.connect_timeout.min(self.provider_timeout),
            total_timeout: self.provider_timeout,
            ..defaults
        }
    }
}

impl std::fmt::Debug for GatewayParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayParts")
            .field("public_url", &self.public_url)
            .field("themes_dir", &self.themes_dir)
            .finish_non_exhaustive()
    }
}

/// A wired gateway, ready to [`Gateway::run`].
pub struct Gateway {
    /// The engine (its workers run beside the server).
    pub engine: Engine,
    endpoint: BoxEndpoint<'static>,
    shutdown_grace: Duration,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Wires the parts. Fails when a theme is missing or any stored tenant's templates do not
    /// render in every locale it supports (style item 9: fail loudly at boot, not per user).
    pub async fn build(parts: GatewayParts) -> anyhow::Result<Self> {
        let themes = match &parts.themes_dir {
            None => Themes::builtin().context("cannot load the built-in themes")?,
            Some(dir) => Themes::builtin_with_overrides(dir)
                .with_context(|| format!("cannot load the themes folder {}", dir.display()))?,
        };
        let themes = Arc::new(themes);
        check_stored_tenants(&parts.store, &themes).await?;

        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let router = Router::attach(&parts.store, &RouterOptions::default());
        let tenants = CountedTenants::new(router.clone());
        let mut settings = EngineSettings::new(parts.public_url.clone());
        if let Some(from) = &parts.mail_from {
            settings.default_from.clone_from(from);
        }
        parts.tuning.apply(&mut settings);
        settings.check().map_err(anyhow::Error::msg)?;
        let providers = StoredProviders::new(
            parts.store.clone(),
            parts.keyring.clone(),
            parts.provider_hosts.clone(),
            parts.tuning.http(),
            Arc::new(settings.clone()),
        );
        let default_from = settings.default_from.clone();
        let engine = Engine::new(EngineParts {
            store: parts.store.clone(),
            tenants: Arc::new(tenants.clone()),
            providers: Arc::new(MeteredProviders(providers)),
            renderer: Arc::new(ThemeRenderer::new(Arc::clone(&themes))),
            transport: Arc::clone(&parts.transport),
            keyring: parts.keyring.clone(),
            clock: Arc::clone(&clock),
            settings,
        });

        let mut web = WebSettings::new(parts.public_url.clone());
        web.trusted_proxies = parts.trusted_proxies.clone();
        let public_origin = web.public_origin().to_owned();
        let state = AppState {
            backend: Arc::new(MeteredBackend(engine.clone())),
            tenants: Arc::new(tenants.clone()),
            themes: Arc::clone(&themes),
            settings: Arc::new(web),
            csrf_key: CsrfKey::new(parts.keyring.derive("csrf")),
            pages: Default::default(),
            policy_answers: Default::default(),
        };
        let admin = AdminState::new(AdminParts {
            store: parts.store.clone(),
            router: Some(router),
            keyring: parts.keyring.clone(),
            themes,
            clock,
            mailer: parts.transport,
            settings: AdminSettings {
                swagger_ui: parts.swagger_ui,
                mail_from: default_from,
                public_origin,
                provider_hosts: parts.provider_hosts,
                requests_per_minute: parts.admin_limits.requests_per_minute,
                expensive_requests_per_minute: parts.admin_limits.expensive_requests_per_minute,
                console: parts.console,
                console_oidc: parts.console_oidc,
                ..AdminSettings::default()
            },
        });
        let app = AppBuilder::new(state)
            .nest("/admin", passgate_web::admin::routes(admin.clone()))
            .nest(
                passgate_web::console::BASE,
                passgate_web::console::routes(admin),
            );
        // Probes and metrics sit outside the pages' Host check: a load balancer or a
        // Kubernetes kubelet calls them by IP. Extra routes (the demo mailbox) set their
        // own headers.
        let mut outside = Route::new()
            .at("/healthz", health::healthz)
            .at("/readyz", health::readyz.data(parts.store.clone()));
        let mut outside_paths = vec!["/healthz".to_owned(), "/readyz".to_owned()];
        let mut outside_prefixes = Vec::new();
        for (prefix, endpoint) in parts.extra_routes {
            outside_prefixes.push(prefix.trim_end_matches('/').to_owned());
            outside = outside.nest(prefix, endpoint);
        }
        if let Some(metrics) = &parts.metrics {
            metrics.watch(parts.store.clone(), tenants);
            outside = outside.at("/metrics", metrics.endpoint());
            outside_paths.push("/metrics".to_owned());
        }
        let route = OutsideOrApp {
            outside: outside.boxed(),
            outside_paths,
            outside_prefixes,
            app: app.build(),
        };
        let endpoint = match parts.metrics {
            Some(metrics) => route
                .around(move |next, req| {
                    let metrics = metrics.clone();
                    async move { metrics.observe(next, req).await }
                })
                .with(CatchPanic::new())
                .map_to_response()
                .boxed(),
            None => route.with(CatchPanic::new()).map_to_response().boxed(),
        };
        Ok(Self {
            engine,
            endpoint,
            shutdown_grace: parts.shutdown_grace,
        })
    }

    /// Serves on `listener` with the workers running until `shutdown` resolves, then drains
    /// and stops (see the module doc).
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let (stop_workers, stopped) = watch::channel(false);
        let jobs = {
            let engine = self.engine.clone();
            let stopped = stopped.clone();
            tokio::spawn(async move { engine.run_job_worker(stopped).await })
        };
        let outbox = {
            let engine = self.engine.clone();
            tokio::spawn(async move { engine.run_outbox_worker(stopped).await })
        };
        let acceptor = TcpAcceptor::from_tokio(listener).context("cannot accept connections")?;
        let served = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(self.shutdown_grace))
            .await;
        tracing::info!("requests drained; stopping the workers");
        let _ = stop_workers.send(true);
        for worker in [jobs, outbox] {
            if let Err(err) = worker.await {
                tracing::error!(error = %err, "a worker ended abnormally");
            }
        }
        tracing::info!("stopped");
        served.context("the HTTP server failed")
    }
}

/// Renders every stored tenant's templates (see [`Gateway::build`]) and checks that each
/// tenant's `reset.mode` runs on the provider it is bound to; all problems at once.
async fn check_stored_tenants(store: &Store, themes: &Themes) -> anyhow::Result<()> {
    let mut configs: Vec<TenantConfig> = Vec::new();
    let mut misfits: Vec<String> = Vec::new();
    for summary in store.list_tenants().await? {
        let id = summary.tenant.id.clone();
        let Some(version) = store.active_version(&id).await? else {
            continue;
        };
        match parse_tenant_yaml(&format!("{id} v{}", version.info.version), &version.yaml) {
            Ok(valid) => {
                misfits.extend(mode_misfit(&summary.tenant, valid.config.reset.mode));
                configs.push(valid.config);
            }
            Err(errors) => {
                // Routing refuses such a tenant per request; the others keep serving.
                tracing::error!(tenant = %id, problems = errors.problems.len(), "stored configuration is invalid");
            }
        }
    }
    if !misfits.is_empty() {
        let lines: Vec<String> = misfits.iter().map(|e| format!("  - {e}")).collect();
        anyhow::bail!(
            "tenant reset modes do not fit their providers:\n{}",
            lines.join("\n")
        );
    }
    if let Err(errors) = passgate_web::startup::check_tenants(themes, &configs) {
        let lines: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
        anyhow::bail!("tenant templates do not render:\n{}", lines.join("\n"));
    }
    Ok(())
}

/// Why `tenant` cannot run `mode` on its binding, if it cannot. A mode stored with an old
/// binding is deprecated: it is reported and otherwise ignored (the YAML decides).
fn mode_misfit(
    tenant: &passgate_store::Tenant,
    mode: passgate_tenant::ResetMode,
) -> Option<String> {
    if let Some(legacy) = &tenant.legacy_mode {
        tracing::warn!(
            tenant = %tenant.id,
            binding_mode = %legacy,
            yaml_mode = mode.as_str(),
            "the provider binding's `mode` is deprecated and ignored: the YAML's reset.mode \
             decides; rebind the provider (PATCH /admin/v1/tenants/{{id}}) to clear it"
        );
    }
    let family = tenant
        .provider
        .kind()
        .and_then(passgate_tenant::ProviderFamily::parse)?;
    passgate_tenant::check_mode_fits(mode, family)
        .err()
        .map(|mismatch| format!("{}: {mismatch}", tenant.id))
}

/// The console's OIDC sign-in from `config`: the callback is `{public_url}/console/oidc/callback`
/// (register exactly that at the provider); `http://` issuers only on loopback and only when
/// `allow_loopback_http` (the simulator).
pub fn console_oidc(
    config: &crate::config::ConsoleOidcConfig,
    public_url: &str,
    allow_loopback_http: bool,
    timeout: Duration,
) -> Result<Arc<passgate_web::console::ConsoleOidc>, passgate_oidc::OidcError> {
    let provider = passgate_oidc::RelyingParty::new(passgate_oidc::OidcConfig {
        issuer: config.issuer.clone(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        redirect_uri: format!(
            "{}{}/oidc/callback",
            public_url.trim_end_matches('/'),
            passgate_web::console::BASE
        ),
        scopes: vec!["email".into(), "profile".into()],
        allow_loopback_http,
        timeout,
    })?;
    Ok(Arc::new(passgate_web::console::ConsoleOidc {
        provider,
        display_name: config.display_name.clone(),
        role_claim: config.role_claim.clone(),
        tenants_claim: config.tenants_claim.clone(),
    }))
}

/// The probes, metrics and extra trees (outside the pages' Host check), or else the app,
/// chosen by path: the app is called with the request as it came, not through a nested
/// route that rewrites every request's URI on the way in.
struct OutsideOrApp {
    outside: BoxEndpoint<'static>,
    /// Exact paths served by `outside` (the probes, `/metrics`): anything below them is
    /// the app's, so it gets the app's 404 page and security headers.
    outside_paths: Vec<String>,
    /// Prefixes of the extra trees (`/prefix` and `/prefix/…`) served by `outside`.
    outside_prefixes: Vec<String>,
    app: BoxEndpoint<'static>,
}

impl OutsideOrApp {
    fn is_outside(&self, path: &str) -> bool {
        self.outside_paths.iter().any(|p| p == path)
            || self.outside_prefixes.iter().any(|p| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
    }
}

impl poem::Endpoint for OutsideOrApp {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<Self::Output> {
        if self.is_outside(req.uri().path()) {
            self.outside.call(req).await
        } else {
            self.app.call(req).await
        }
    }
}
