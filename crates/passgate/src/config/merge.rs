//! The environment over the file, key by key, validated into a [`ServerConfig`] with every
//! problem collected.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use passgate_engine::Keyring;
use passgate_engine::client_ip::{IpNetwork, TrustedProxies};
use passgate_engine::mail::{SmtpSecurity, SmtpSettings};
use secrecy::SecretString;

use super::keys::KEYS;
use super::raw::RawConfig;
use super::{ConfigProblems, ConsoleOidcConfig, ServerConfig};
use crate::telemetry::LogFormat;

/// The file's values with the environment on top.
pub(super) struct Merged<'a> {
    pub(super) raw: RawConfig,
    pub(super) env: &'a BTreeMap<String, String>,
    pub(super) file: Option<&'a Path>,
}

impl Merged<'_> {
    /// The value of `key`: the environment variable wins over the file. Also says where it
    /// came from, for messages.
    fn get(&self, key: &str, file_value: Option<String>) -> Option<(String, String)> {
        let env = KEYS.iter().find(|k| k.key == key).map(|k| k.env);
        if let Some(var) = env
            && let Some(value) = self.env.get(var)
            && !value.trim().is_empty()
        {
            return Some((value.clone(), var.to_owned()));
        }
        let origin = match self.file {
            Some(file) => format!("{key} in {}", file.display()),
            None => key.to_owned(),
        };
        file_value.map(|v| (v, origin))
    }

    pub(super) fn validate(self) -> Result<ServerConfig, ConfigProblems> {
        let mut problems = Vec::new();
        let raw = &self.raw;
        let bool_text = |b: Option<bool>| b.map(|b| b.to_string());
        let list_text = |l: &Option<Vec<String>>| l.as_ref().map(|l| l.join(","));

        let public_url = match self.get("public_url", raw.public_url.clone()) {
            Some((value, origin)) => check_public_url(&value)
                .map_err(|e| problems.push(format!("{origin}: {e}")))
                .ok(),
            None => {
                problems.push(missing(
                    "public_url",
                    "the https origin users reach, e.g. https://reset.example.com",
                ));
                None
            }
        };
        let listen = parse_or(
            &mut problems,
            self.get("listen", raw.listen.clone()),
            "0.0.0.0:8080",
            |v| {
                v.parse::<SocketAddr>()
                    .map_err(|_| "expected HOST:PORT, e.g. 0.0.0.0:8080".to_owned())
            },
        );
        let database_url = match self.get("database_url", raw.database_url.clone()) {
            Some((value, origin)) => {
                let ok = ["postgres://", "postgresql://", "sqlite:"]
                    .iter()
                    .any(|p| value.starts_with(p));
                if !ok {
                    problems.push(format!(
                        "{origin}: expected a postgres://… or sqlite://… URL"
                    ));
                }
                Some(SecretString::from(value))
            }
            None => {
                problems.push(missing(
                    "database_url",
                    "e.g. postgres://passgate@db/passgate",
                ));
                None
            }
        };
        let keyring = match self.get("master_keys", raw.master_keys.clone()) {
            Some((value, origin)) => Keyring::parse(&value)
                .map_err(|e| problems.push(format!("{origin}: {e}")))
                .ok(),
            None => {
                problems.push(missing(
                    "master_keys",
                    "`id:base64-of-32-bytes`, e.g. generate with `openssl rand -base64 32`; \
                     the process will not start without keys",
                ));
                None
            }
        };
        let trusted_proxies = parse_or(
            &mut problems,
            self.get("trusted_proxies", list_text(&raw.trusted_proxies)),
            "",
            parse_proxies,
        );
        let log_format = parse_or(
            &mut problems,
            self.get("log_format", raw.log_format.clone()),
            "text",
            |v| v.parse::<LogFormat>(),
        );
        let themes_dir = self
            .get("themes_dir", raw.themes_dir.clone())
            .and_then(|(v, origin)| {
                let dir = PathBuf::from(&v);
                if dir.is_dir() {
                    Some(dir)
                } else {
                    problems.push(format!(
                        "{origin}: the themes folder `{v}` does not exist here ({}); set \
                         themes_dir (PASSGATE_THEMES_DIR) to a folder of theme folders, or \
                         leave it unset to serve the built-in themes",
                        std::env::current_dir()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default()
                    ));
                    None
                }
            });
        let mail_from = self.get("mail_from", raw.mail_from.clone()).map(|(v, _)| v);
        let swagger_ui = parse_or(
            &mut problems,
            self.get("swagger_ui", bool_text(raw.swagger_ui)),
            "false",
            parse_bool,
        );
        let admin_count = |v: &str| match v.parse::<u32>() {
            Ok(n @ 1..=1_000_000) => Ok(n),
            _ => Err("expected a whole number from 1 to 1000000".to_owned()),
        };
        let admin_requests_per_minute = parse_or(
            &mut problems,
            self.get(
                "admin_requests_per_minute",
                raw.admin_requests_per_minute.map(|n| n.to_string()),
            ),
            "120",
            admin_count,
        );
        let admin_expensive_requests_per_minute = parse_or(
            &mut problems,
            self.get(
                "admin_expensive_requests_per_minute",
                raw.admin_expensive_requests_per_minute
                    .map(|n| n.to_string()),
            ),
            "20",
            admin_count,
        );
        let metrics = parse_or(
            &mut problems,
            self.get("metrics", bool_text(raw.metrics)),
            "true",
            parse_bool,
        );
        let grace = parse_or(
            &mut problems,
            self.get(
                "shutdown_grace_secs",
                raw.shutdown_grace_secs.map(|s| s.to_string()),
            ),
            "20",
            seconds_between(1, 300),
        );
        let console_idle = parse_or(
            &mut problems,
            self.get(
                "console_idle_timeout_secs",
                raw.console_idle_timeout_secs.map(|s| s.to_string()),
            ),
            "1800",
            seconds_between(60, 86_400),
        );
        let console_absolute = parse_or(
            &mut problems,
            self.get(
                "console_absolute_timeout_secs",
                raw.console_absolute_timeout_secs.map(|s| s.to_string()),
            ),
            "43200",
            seconds_between(300, 604_800),
        );
        let provider_custom_domains = self
            .get(
                "provider_custom_domains",
                list_text(&raw.provider_custom_domains),
            )
            .map(|(v, _)| split_list(&v))
            .unwrap_or_default();
        let provider_allow_loopback_http = parse_or(
            &mut problems,
            self.get(
                "provider_allow_loopback_http",
                bool_text(raw.provider_allow_loopback_http),
            ),
            "false",
            parse_bool,
        );
        let seconds = |max: u64| {
            move |v: &str| match v.parse::<u64>() {
                Ok(s) if (1..=max).contains(&s) => Ok(Duration::from_secs(s)),
                _ => Err(format!("expected a number of seconds from 1 to {max}")),
            }
        };
        let provider_timeout = parse_or(
            &mut problems,
            self.get(
                "provider_timeout_secs",
                raw.provider_timeout_secs.map(|s| s.to_string()),
            ),
            "10",
            seconds(60),
        );
        let provider_breaker_cooldown = parse_or(
            &mut problems,
            self.get(
                "provider_breaker_cooldown_secs",
                raw.provider_breaker_cooldown_secs.map(|s| s.to_string()),
            ),
            "30",
            seconds(600),
        );
        let count = |v: &str| match v.parse::<u32>() {
            Ok(n @ 1..=10_000_000) => Ok(n),
            _ => Err("expected a whole number from 1 to 10000000".to_owned()),
        };
        let redeem_max_refusals = parse_or(
            &mut problems,
            self.get(
                "redeem_max_refusals",
                raw.redeem_max_refusals.map(|n| n.to_string()),
            ),
            "10",
            |v: &str| match v.parse::<u32>() {
                Ok(n @ 1..=1000) => Ok(n),
                _ => Err("expected a whole number from 1 to 1000".to_owned()),
            },
        );
        let redeem_per_ip_per_hour = parse_or(
            &mut problems,
            self.get(
                "redeem_per_ip_per_hour",
                raw.redeem_per_ip_per_hour.map(|n| n.to_string()),
            ),
            "100",
            count,
        );
        let redeem_per_tenant_per_minute = parse_or(
            &mut problems,
            self.get(
                "redeem_per_tenant_per_minute",
                raw.redeem_per_tenant_per_minute.map(|n| n.to_string()),
            ),
            "600",
            count,
        );
        let retry_max_backoff = parse_or(
            &mut problems,
            self.get(
                "retry_max_backoff_secs",
                raw.retry_max_backoff_secs.map(|s| s.to_string()),
            ),
            "300",
            |v| match v.parse::<u64>() {
                Ok(s @ 1..=3600) => Ok(Duration::from_secs(s)),
                _ => Err("expected a number of seconds from 1 to 3600".to_owned()),
            },
        );
        let smtp = self.smtp(&mut problems);
        let console_oidc = self.console_oidc(&mut problems);

        match (public_url, database_url, keyring, smtp) {
            (Some(public_url), Some(database_url), Some(keyring), Some(smtp))
                if problems.is_empty() =>
            {
                Ok(ServerConfig {
                    public_url,
                    listen: listen.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 8080))),
                    database_url,
                    keyring,
                    trusted_proxies: trusted_proxies.unwrap_or_else(TrustedProxies::none),
                    log_format: log_format.unwrap_or_default(),
                    themes_dir,
                    mail_from,
                    swagger_ui: swagger_ui.unwrap_or(false),
                    admin_requests_per_minute: admin_requests_per_minute.unwrap_or(120),
                    admin_expensive_requests_per_minute: admin_expensive_requests_per_minute
                        .unwrap_or(20),
                    metrics: metrics.unwrap_or(true),
                    shutdown_grace: grace.unwrap_or(Duration::from_secs(20)),
                    console_idle_timeout: console_idle.unwrap_or(Duration::from_secs(1800)),
                    console_absolute_timeout: console_absolute
                        .unwrap_or(Duration::from_secs(43_200)),
                    provider_custom_domains,
                    provider_allow_loopback_http: provider_allow_loopback_http.unwrap_or(false),
                    provider_timeout: provider_timeout.unwrap_or(Duration::from_secs(10)),
                    provider_breaker_cooldown: provider_breaker_cooldown
                        .unwrap_or(Duration::from_secs(30)),
                    redeem_max_refusals: redeem_max_refusals.unwrap_or(10),
                    redeem_per_ip_per_hour: redeem_per_ip_per_hour.unwrap_or(100),
                    redeem_per_tenant_per_minute: redeem_per_tenant_per_minute.unwrap_or(600),
                    retry_max_backoff: retry_max_backoff.unwrap_or(Duration::from_secs(300)),
                    smtp,
                    console_oidc,
                })
            }
            _ => Err(ConfigProblems(problems)),
        }
    }

    fn console_oidc(&self, problems: &mut Vec<String>) -> Option<ConsoleOidcConfig> {
        let raw = &self.raw.console_oidc;
        let text = |key: &str, value: &Option<String>| {
            self.get(key, value.clone())
                .map(|(v, _)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let issuer = text("console_oidc.issuer", &raw.issuer);
        let client_id = text("console_oidc.client_id", &raw.client_id);
        let (issuer, client_id) = match (issuer, client_id) {
            (Some(issuer), Some(client_id)) => (issuer, client_id),
            (None, None) => return None,
            _ => {
                problems.push(
                    "console_oidc.issuer and console_oidc.client_id: set both (OIDC sign-in to \
                     the console) or neither (admin keys only)"
                        .to_owned(),
                );
                return None;
            }
        };
        let claim = |key: &str, value: &Option<String>, default: &str| {
            text(key, value).unwrap_or_else(|| default.to_owned())
        };
        Some(ConsoleOidcConfig {
            issuer,
            client_id,
            client_secret: text("console_oidc.client_secret", &raw.client_secret)
                .map(SecretString::from),
            display_name: claim(
                "console_oidc.display_name",
                &raw.display_name,
                "your company account",
            ),
            role_claim: claim("console_oidc.role_claim", &raw.role_claim, "passgate_role"),
            tenants_claim: claim(
                "console_oidc.tenants_claim",
                &raw.tenants_claim,
                "passgate_tenants",
            ),
        })
    }

    fn smtp(&self, problems: &mut Vec<String>) -> Option<SmtpSettings> {
        let raw = &self.raw.smtp;
        let host = self.get("smtp.host", raw.host.clone());
        if host.is_none() {
            problems.push(missing(
                "smtp.host",
                "the SMTP relay reset mail is sent through",
            ));
        }
        let security = parse_or(
            problems,
            self.get("smtp.security", raw.security.clone()),
            "starttls",
            |v| match v.trim().to_ascii_lowercase().as_str() {
                "tls" | "implicit_tls" | "smtps" => Ok(SmtpSecurity::ImplicitTls),
                "starttls" => Ok(SmtpSecurity::StartTls),
                "plain" | "none" => Ok(SmtpSecurity::Plain),
                _ => Err("expected tls, starttls or plain".to_owned()),
            },
        )
        .unwrap_or(SmtpSecurity::StartTls);
        let default_port = match security {
            SmtpSecurity::ImplicitTls => "465",
            SmtpSecurity::StartTls => "587",
            SmtpSecurity::Plain => "25",
        };
        let port = parse_or(
            problems,
            self.get("smtp.port", raw.port.map(|p| p.to_string())),
            default_port,
            |v| {
                v.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| "expected a port from 1 to 65535".to_owned())
            },
        );
        let timeout = parse_or(
            problems,
            self.get("smtp.timeout_secs", raw.timeout_secs.map(|s| s.to_string())),
            "10",
            |v| match v.parse::<u64>() {
                Ok(s @ 1..=120) => Ok(Duration::from_secs(s)),
                _ => Err("expected a number of seconds from 1 to 120".to_owned()),
            },
        );
        let username = self
            .get("smtp.username", raw.username.clone())
            .map(|(v, _)| v);
        let password = self
            .get("smtp.password", raw.password.clone())
            .map(|(v, _)| v);
        if username.is_some() != password.is_some() {
            problems.push("smtp.username and smtp.password: set both or neither".to_owned());
        }
        let (host, host_origin) = host?;
        if security == SmtpSecurity::Plain && password.is_some() && !is_loopback_host(&host) {
            problems.push(format!(
                "{host_origin}: smtp.security = plain would send the SMTP password unencrypted \
                 to a remote host; use starttls or tls"
            ));
        }
        Some(SmtpSettings {
            host,
            port: port?,
            security,
            username,
            password: password.map(SecretString::from),
            timeout: timeout?,
        })
    }
}

fn missing(key: &str, hint: &str) -> String {
    let env = KEYS.iter().find(|k| k.key == key).map_or("", |k| k.env);
    format!("{key} (or {env}) is required: {hint}")
}

/// Parses the value if present (else `default`), recording a problem on failure.
fn parse_or<T>(
    problems: &mut Vec<String>,
    value: Option<(String, String)>,
    default: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let (value, origin) = value.unwrap_or_else(|| (default.to_owned(), "default".to_owned()));
    parse(&value)
        .map_err(|e| problems.push(format!("{origin}: {e}")))
        .ok()
}

/// A parser of a whole number of seconds from `low` to `high`.
fn seconds_between(low: u64, high: u64) -> impl Fn(&str) -> Result<Duration, String> {
    move |v| match v.parse::<u64>() {
        Ok(s) if (low..=high).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(format!("expected a number of seconds from {low} to {high}")),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_proxies(v: &str) -> Result<TrustedProxies, String> {
    let mut networks = Vec::new();
    for item in split_list(v) {
        networks.push(
            IpNetwork::parse(&item)
                .ok_or_else(|| format!("{item:?} is not an IP address or CIDR network"))?,
        );
    }
    Ok(TrustedProxies::new(networks))
}

/// The public URL must be an absolute https origin (http only for loopback, for local
/// trials): links in mail are built from it (items 41–42).
fn check_public_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not an absolute URL ({e})"))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        _ => return Err("must be https:// (http:// only for a loopback host)".to_owned()),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(
            "must be an origin (scheme, host, optional port) with no query or credentials"
                .to_owned(),
        );
    }
    if url.path() != "/" {
        return Err(
            "must not have a path: Passgate serves its pages at the root of its origin".to_owned(),
        );
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
