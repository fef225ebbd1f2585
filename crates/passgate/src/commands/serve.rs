//! `passgate serve`: the production gateway. Reads the configuration (file plus `PASSGATE_*`
//! environment), refuses to start on any problem (all listed at once), refuses a database
//! with pending migrations (run `passgate migrate` first, once per upgrade), then serves until
//! SIGTERM or Ctrl-C and shuts down gracefully.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use passgate_engine::mail::SmtpTransport;
use passgate_idp::HostPolicy;
use passgate_store::Store;
use secrecy::ExposeSecret as _;

use crate::cli::ServeArgs;
use crate::config::{self, ServerConfig};
use crate::gateway::{AdminLimits, EngineTuning, Gateway, GatewayParts};
use crate::instruments::Metrics;
use crate::telemetry;

/// Runs `passgate serve`.
pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match config::load(args.config.as_deref(), &config::process_env()) {
        Ok(config) => config,
        Err(problems) => {
            eprint!("{problems}");
            return Ok(ExitCode::from(1));
        }
    };
    if args.check {
        writeln!(std::io::stdout().lock(), "configuration is valid")?;
        return Ok(ExitCode::SUCCESS);
    }
    telemetry::init(config.log_format);
    passgate_idp::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: ServerConfig) -> anyhow::Result<ExitCode> {
    let store = Store::connect(config.database_url.expose_secret())
        .await
        .context("cannot connect to the database")?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        anyhow::bail!(
            "the database has {pending} pending migration(s): run `passgate migrate` first"
        );
    }
    let transport = SmtpTransport::new(&config.smtp).context("invalid SMTP settings")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let metrics = if config.metrics {
        Some(Metrics::global().context("cannot install the metrics recorder")?)
    } else {
        None
    };
    let console_oidc = match &config.console_oidc {
        Some(oidc) => Some(
            crate::gateway::console_oidc(
                oidc,
                &config.public_url,
                config.provider_allow_loopback_http,
                config.provider_timeout,
            )
            .map_err(|e| anyhow::anyhow!("console_oidc: {e}"))?,
        ),
        None => None,
    };
    let gateway_parts = GatewayParts {
        store,
        keyring: config.keyring.clone(),
        transport: Arc::new(transport),
        public_url: config.public_url.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        provider_hosts: HostPolicy {
            custom_domains: config.provider_custom_domains.clone(),
            allow_insecure_loopback_for_tests: config.provider_allow_loopback_http,
        },
        themes_dir: config.themes_dir.clone(),
        swagger_ui: config.swagger_ui,
        admin_limits: AdminLimits {
            requests_per_minute: config.admin_requests_per_minute,
            expensive_requests_per_minute: config.admin_expensive_requests_per_minute,
        },
        console: passgate_web::console::ConsoleSettings {
            idle_timeout: config.console_idle_timeout,
            absolute_timeout: config.console_absolute_timeout,
        },
        console_oidc,
        metrics,
        extra_routes: Vec::new(),
        shutdown_grace: config.shutdown_grace,
        mail_from: config.mail_from.clone(),
        tuning: EngineTuning {
            redeem_max_refusals: config.redeem_max_refusals,
            redeem_per_ip_per_hour: config.redeem_per_ip_per_hour,
            redeem_per_tenant_per_minute: config.redeem_per_tenant_per_minute,
            retry_max_backoff: config.retry_max_backoff,
            provider_timeout: config.provider_timeout,
            breaker_cooldown: config.provider_breaker_cooldown,
        },
    };
    if config.provider_allow_loopback_http {
        tracing::warn!(
            "provider_allow_loopback_http is on: plain-http identity providers on loopback \
             hosts are accepted (for a local simulator only)"
        );
    }
    let gateway = Gateway::build(gateway_parts).await?;
    let bound = listener.local_addr()?;
    tracing::info!(listen = %bound, public_url = %config.public_url, "passgate serving");
    // On stdout too, so scripts (and `listen = "…:0"`) learn the bound address.
    writeln!(
        std::io::stdout().lock(),
        "passgate serving on {bound} for {}",
        config.public_url
    )?;
    gateway
        .run(listener, crate::signals::stop_requested())
        .await?;
    Ok(ExitCode::SUCCESS)
}
