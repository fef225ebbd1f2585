//! [`WebSettings`]: how the HTTP layer runs, built once by the binary.

use std::collections::BTreeMap;

use passgate_engine::client_ip::TrustedProxies;

/// Platform-level knobs of the hosted pages and the public API.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The configured public origin (`https://reset.example.com`). It is the only origin a
    /// cross-origin check accepts; links are built by the engine from the same value.
    /// Private, set once by [`WebSettings::new`]: the two below are derived from it.
    public_base_url: String,
    /// `scheme://host[:port]` of the public URL (read per cross-origin check).
    public_origin: String,
    /// `host[:port]` of the public URL, lowercased (read per request by the Host check).
    public_host: Option<String>,
    /// Extra hosts (custom domain per tenant) mapped to the client id they serve. A request
    /// whose `Host` is neither the public origin's host nor one of these gets 400.
    pub custom_hosts: BTreeMap<String, String>,
    /// Proxies whose `X-Forwarded-For` is believed for the client address.
    pub trusted_proxies: TrustedProxies,
    /// Lifetime of the cookie that carries a reset token after it leaves the address bar.
    pub reset_cookie_max_age_secs: u64,
    /// Largest request body accepted by forms and the JSON API.
    pub max_body_bytes: usize,
}

impl WebSettings {
    /// Defaults for `public_base_url`.
    pub fn new(public_base_url: impl Into<String>) -> Self {
        let public_base_url = public_base_url.into().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&public_base_url).ok();
        let public_origin = parsed.as_ref().map_or_else(
            || public_base_url.clone(),
            |u| u.origin().ascii_serialization(),
        );
        let public_host = parsed.as_ref().and_then(|url| {
            let host = url.host_str()?.to_ascii_lowercase();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
        Self {
            public_base_url,
            public_origin,
            public_host,
            custom_hosts: BTreeMap::new(),
            trusted_proxies: TrustedProxies::none(),
            reset_cookie_max_age_secs: 15 * 60,
            max_body_bytes: 16 * 1024,
        }
    }

    /// The public URL as configured (no trailing slash).
    pub fn public_base_url(&self) -> &str {
        &self.public_base_url
    }

    /// The public origin as `scheme://host[:port]`, compared with `Origin` headers.
    pub fn public_origin(&self) -> &str {
        &self.public_origin
    }

    /// Whether `host` (a `Host` header value) is served here. An explicit default port
    /// (`:443`, `:80`) is the same host.
    pub fn is_known_host(&self, host: &str) -> bool {
        let host = host
            .strip_suffix(":443")
            .or_else(|| host.strip_suffix(":80"))
            .unwrap_or(host);
        if self
            .public_host
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(host))
        {
            return true;
        }
        !self.custom_hosts.is_empty() && self.custom_hosts.contains_key(&host.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_host_and_configured_custom_hosts_are_known() {
        let mut settings = WebSettings::new("https://reset.example.com/");
        settings
            .custom_hosts
            .insert("reset.acme.example".into(), "acme-ios".into());
        for known in [
            "reset.example.com",
            "RESET.example.com",
            "reset.example.com:443",
            "reset.acme.example",
        ] {
            assert!(settings.is_known_host(known), "{known}");
        }
        for unknown in [
            "evil.example",
            "reset.example.com.evil.example",
            "reset.example.com:8443",
            "www.example:dr.frankenstein@evil.tld",
        ] {
            assert!(!settings.is_known_host(unknown), "{unknown}");
        }
        assert_eq!(settings.public_origin(), "https://reset.example.com");
    }
}
