//! Every server configuration key with its environment variable, in documentation order.

/// One configuration key: its dotted name in the file and its environment variable.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// Dotted name in the file (`smtp.host`).
    pub key: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
}

/// Every key, in documentation order.
pub const KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "public_url",
        env: "PASSGATE_PUBLIC_URL",
    },
    KeyDoc {
        key: "listen",
        env: "PASSGATE_LISTEN",
    },
    KeyDoc {
        key: "database_url",
        env: "PASSGATE_DATABASE_URL",
    },
    KeyDoc {
        key: "master_keys",
        env: "PASSGATE_MASTER_KEYS",
    },
    KeyDoc {
        key: "trusted_proxies",
        env: "PASSGATE_TRUSTED_PROXIES",
    },
    KeyDoc {
        key: "log_format",
        env: "PASSGATE_LOG_FORMAT",
    },
    KeyDoc {
        key: "themes_dir",
        env: "PASSGATE_THEMES_DIR",
    },
    KeyDoc {
        key: "mail_from",
        env: "PASSGATE_MAIL_FROM",
    },
    KeyDoc {
        key: "swagger_ui",
        env: "PASSGATE_SWAGGER_UI",
    },
    KeyDoc {
        key: "admin_requests_per_minute",
        env: "PASSGATE_ADMIN_REQUESTS_PER_MINUTE",
    },
    KeyDoc {
        key: "admin_expensive_requests_per_minute",
        env: "PASSGATE_ADMIN_EXPENSIVE_REQUESTS_PER_MINUTE",
    },
    KeyDoc {
        key: "metrics",
        env: "PASSGATE_METRICS",
    },
    KeyDoc {
        key: "shutdown_grace_secs",
        env: "PASSGATE_SHUTDOWN_GRACE_SECS",
    },
    KeyDoc {
        key: "console_idle_timeout_secs",
        env: "PASSGATE_CONSOLE_IDLE_TIMEOUT_SECS",
    },
    KeyDoc {
        key: "console_absolute_timeout_secs",
        env: "PASSGATE_CONSOLE_ABSOLUTE_TIMEOUT_SECS",
    },
    KeyDoc {
        key: "provider_custom_domains",
        env: "PASSGATE_PROVIDER_CUSTOM_DOMAINS",
    },
    KeyDoc {
        key: "provider_allow_loopback_http",
        env: "PASSGATE_PROVIDER_ALLOW_LOOPBACK_HTTP",
    },
    KeyDoc {
        key: "provider_timeout_secs",
        env: "PASSGATE_PROVIDER_TIMEOUT_SECS",
    },
    KeyDoc {
        key: "provider_breaker_cooldown_secs",
        env: "PASSGATE_PROVIDER_BREAKER_COOLDOWN_SECS",
    },
    KeyDoc {
        key: "redeem_max_refusals",
        env: "PASSGATE_REDEEM_MAX_REFUSALS",
    },
    KeyDoc {
        key: "redeem_per_ip_per_hour",
        env: "PASSGATE_REDEEM_PER_IP_PER_HOUR",
    },
    KeyDoc {
        key: "redeem_per_tenant_per_minute",
        env: "PASSGATE_REDEEM_PER_TENANT_PER_MINUTE",
    },
    KeyDoc {
        key: "retry_max_backoff_secs",
        env: "PASSGATE_RETRY_MAX_BACKOFF_SECS",
    },
    KeyDoc {
        key: "smtp.host",
        env: "PASSGATE_SMTP_HOST",
    },
    KeyDoc {
        key: "smtp.port",
        env: "PASSGATE_SMTP_PORT",
    },
    KeyDoc {
        key: "smtp.security",
        env: "PASSGATE_SMTP_SECURITY",
    },
    KeyDoc {
        key: "smtp.username",
        env: "PASSGATE_SMTP_USERNAME",
    },
    KeyDoc {
        key: "smtp.password",
        env: "PASSGATE_SMTP_PASSWORD",
    },
    KeyDoc {
        key: "smtp.timeout_secs",
        env: "PASSGATE_SMTP_TIMEOUT_SECS",
    },
    KeyDoc {
        key: "console_oidc.issuer",
        env: "PASSGATE_CONSOLE_OIDC_ISSUER",
    },
    KeyDoc {
        key: "console_oidc.client_id",
        env: "PASSGATE_CONSOLE_OIDC_CLIENT_ID",
    },
    KeyDoc {
        key: "console_oidc.client_secret",
        env: "PASSGATE_CONSOLE_OIDC_CLIENT_SECRET",
    },
    KeyDoc {
        key: "console_oidc.display_name",
        env: "PASSGATE_CONSOLE_OIDC_DISPLAY_NAME",
    },
    KeyDoc {
        key: "console_oidc.role_claim",
        env: "PASSGATE_CONSOLE_OIDC_ROLE_CLAIM",
    },
    KeyDoc {
        key: "console_oidc.tenants_claim",
        env: "PASSGATE_CONSOLE_OIDC_TENANTS_CLAIM",
    },
];
