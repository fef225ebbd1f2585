//! The server configuration of `passgate serve`: a file (TOML, or YAML by extension) with
//! `PASSGATE_*` environment variables overriding it key by key, validated at boot into a
//! [`ServerConfig`]. Every problem is reported at once, each naming its key and where the
//! value came from; the process refuses to start on any (security item 70).
//!
//! `keys::KEYS` lists every key with its environment variable; docs/server-config.md documents
//! each one, and a test keeps the two in step.
//!
//! # Layout
//! - this file: [`ServerConfig`], [`ConfigProblems`], [`load`].
//! - `keys`: `KEYS`, every key and its environment variable.
//! - `raw`: the file as written, and reading it.
//! - `merge`: the environment over the file, validated key by key.

mod keys;
mod merge;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use passgate_engine::Keyring;
use passgate_engine::client_ip::TrustedProxies;
use passgate_engine::mail::SmtpSettings;
use secrecy::SecretString;

use crate::telemetry::LogFormat;
#[cfg(test)]
use keys::KEYS;
use merge::Merged;
use raw::{RawConfig, read_file};

/// The validated configuration.
#[derive(Clone)]
pub struct ServerConfig {
    /// The public origin links and cross-origin checks use (`https://reset.example.com`).
    pub public_url: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// `postgres://…` or `sqlite://…`.
    pub database_url: SecretString,
    /// Master keys (first is active).
    pub keyring: Keyring,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Text or JSON logs.
    pub log_format: LogFormat,
    /// A folder laid over the built-in themes; `None` serves the built-in themes alone.
    pub themes_dir: Option<PathBuf>,
    /// Sender when a tenant names none; `None` derives one from the public host.
    pub mail_from: Option<String>,
    /// Serve Swagger UI at `/admin/docs`.
    pub swagger_ui: bool,
    /// Admin API requests per API key per minute.
    pub admin_requests_per_minute: u32,
    /// Expensive admin requests (document checks, test emails) per API key per minute.
    pub admin_expensive_requests_per_minute: u32,
    /// Serve `/metrics`.
    pub metrics: bool,
    /// How long in-flight requests may finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// A `/console` session unused this long ends.
    pub console_idle_timeout: Duration,
    /// A `/console` session ends this long after sign-in, however busy.
    pub console_absolute_timeout: Duration,
    /// Extra allowed provider hosts (verified Auth0 custom domains).
    pub provider_custom_domains: Vec<String>,
    /// Accept `http://` providers on a loopback host (a local simulator: tests, benchmarks).
    pub provider_allow_loopback_http: bool,
    /// Longest wait for one provider call.
    pub provider_timeout: Duration,
    /// How long an open circuit stops a tenant's provider calls.
    pub provider_breaker_cooldown: Duration,
    /// Refused passwords before a link token or code flow is spent.
    pub redeem_max_refusals: u32,
    /// Completion attempts per client IP per hour, across tenants.
    pub redeem_per_ip_per_hour: u32,
    /// Completion attempts per tenant per minute.
    pub redeem_per_tenant_per_minute: u32,
    /// Ceiling of one retry delay of the job (provider lookup) and outbox (mail) workers.
    pub retry_max_backoff: Duration,
    /// The SMTP relay.
    pub smtp: SmtpSettings,
    /// Console sign-in through the company's OpenID Connect provider (`None`: keys only).
    pub console_oidc: Option<ConsoleOidcConfig>,
}

/// `[console_oidc]`: the company's OpenID Connect provider for console sign-in.
#[derive(Clone)]
pub struct ConsoleOidcConfig {
    /// The issuer identifier, exactly as its ID tokens carry it.
    pub issuer: String,
    /// The gateway's client id there.
    pub client_id: String,
    /// The client secret of a confidential client; `None` for a public client.
    pub client_secret: Option<SecretString>,
    /// The provider's name on the sign-in button.
    pub display_name: String,
    /// The claim with the role (`platform-admin` / `tenant-editor`).
    pub role_claim: String,
    /// The claim with an editor's tenant ids.
    pub tenants_claim: String,
}

impl fmt::Debug for ConsoleOidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleOidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("public_url", &self.public_url)
            .field("listen", &self.listen)
            .field("database_url", &"<redacted>")
            .field("master_keys", &"<redacted>")
            .field("log_format", &self.log_format)
            .field("smtp", &self.smtp)
            .field("console_oidc", &self.console_oidc)
            .finish_non_exhaustive()
    }
}

/// Every problem found, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<String>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the server configuration is invalid ({} problem(s)):",
            self.0.len()
        )?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigProblems {}

/// Loads `file` (if any), applies `env` (the process environment in production; a map in
/// tests), and validates.
pub fn load(
    file: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<ServerConfig, ConfigProblems> {
    let raw = match file {
        Some(path) => read_file(path).map_err(|p| ConfigProblems(vec![p]))?,
        None => RawConfig::default(),
    };
    let merged = Merged { raw, env, file };
    merged.validate()
}

/// The `PASSGATE_*` variables of the process environment.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("PASSGATE_"))
        .collect()
}

#[cfg(test)]
mod tests;
