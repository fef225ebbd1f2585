//! The server configuration file as written (TOML, or YAML by extension): every key
//! optional, unknown keys refused.

use std::path::Path;

use serde::Deserialize;

/// The file as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) public_url: Option<String>,
    pub(super) listen: Option<String>,
    pub(super) database_url: Option<String>,
    pub(super) master_keys: Option<String>,
    pub(super) trusted_proxies: Option<Vec<String>>,
    pub(super) log_format: Option<String>,
    pub(super) themes_dir: Option<String>,
    pub(super) mail_from: Option<String>,
    pub(super) swagger_ui: Option<bool>,
    pub(super) admin_requests_per_minute: Option<u32>,
    pub(super) admin_expensive_requests_per_minute: Option<u32>,
    pub(super) metrics: Option<bool>,
    pub(super) shutdown_grace_secs: Option<u64>,
    pub(super) console_idle_timeout_secs: Option<u64>,
    pub(super) console_absolute_timeout_secs: Option<u64>,
    pub(super) provider_custom_domains: Option<Vec<String>>,
    pub(super) provider_allow_loopback_http: Option<bool>,
    pub(super) provider_timeout_secs: Option<u64>,
    pub(super) provider_breaker_cooldown_secs: Option<u64>,
    pub(super) redeem_max_refusals: Option<u32>,
    pub(super) redeem_per_ip_per_hour: Option<u32>,
    pub(super) redeem_per_tenant_per_minute: Option<u32>,
    pub(super) retry_max_backoff_secs: Option<u64>,
    #[serde(default)]
    pub(super) smtp: RawSmtp,
    #[serde(default)]
    pub(super) console_oidc: RawConsoleOidc,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsoleOidc {
    pub(super) issuer: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) display_name: Option<String>,
    pub(super) role_claim: Option<String>,
    pub(super) tenants_claim: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) timeout_secs: Option<u64>,
}

/// Reads and parses the file; the error names it.
pub(super) fn read_file(path: &Path) -> Result<RawConfig, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if yaml {
        serde_saphyr::from_str(&text).map_err(|e| format!("{name}: {e}"))
    } else {
        toml::from_str(&text).map_err(|e| format!("{name}: {e}"))
    }
}
