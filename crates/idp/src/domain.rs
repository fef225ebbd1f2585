//! The provider-host allowlist. Client secrets and users' new passwords travel to the
//! configured host, so it is a request-forgery and secret-leak boundary: a host is accepted
//! only if it is a known platform domain or a custom domain the operator listed explicitly.
//! The check runs when a client is built, before any connection exists.

use std::net::IpAddr;

use url::{Host, Url};

use crate::IdpError;

/// Auth0 platform suffixes; the wildcard is exactly one label (`tenant.eu.auth0.com`).
pub const AUTH0_PLATFORM_SUFFIXES: &[&str] = &[
    "auth0.com",
    "eu.auth0.com",
    "us.auth0.com",
    "au.auth0.com",
    "jp.auth0.com",
];

/// Janrain / Akamai Identity Cloud capture suffixes (`app.janraincapture.com`,
/// `app.us-dev.janraincapture.com`, …); the wildcard is exactly one label.
pub const JANRAIN_PLATFORM_SUFFIXES: &[&str] = &[
    "janraincapture.com",
    "us.janraincapture.com",
    "us-dev.janraincapture.com",
    "eu.janraincapture.com",
    "eu-dev.janraincapture.com",
    "au.janraincapture.com",
    "au-dev.janraincapture.com",
    "cn.janraincapture.com",
    "cn-dev.janraincapture.com",
];

/// Which hosts a client may talk to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    /// Exact extra hosts (custom domains), compared case-insensitively.
    pub custom_domains: Vec<String>,
    /// Accept `http://127.0.0.1:PORT` / `http://[::1]:PORT` / `http://localhost:PORT` (with an
    /// optional path prefix). Only for tests and the local demo against the simulator; never
    /// on by default.
    pub allow_insecure_loopback_for_tests: bool,
}

/// Parses `domain` (a bare host like `tenant.eu.auth0.com` or an `https://` URL) and checks
/// it against the platform suffixes and `policy`. Returns the base URL (no trailing slash in
/// the path) to join API paths onto.
pub fn check_provider_host(
    domain: &str,
    platform_suffixes: &[&str],
    policy: &HostPolicy,
) -> Result<Url, IdpError> {
    let refused = || IdpError::DomainNotAllowed {
        host: shorten(domain),
    };
    let trimmed = domain.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| refused())?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(refused());
    }
    let host = url.host().ok_or_else(refused)?;

    if policy.allow_insecure_loopback_for_tests && is_loopback(&host) {
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(refused());
        }
        return Ok(without_trailing_slash(url));
    }

    // Real providers: https on the default port, a DNS name, root path.
    if url.scheme() != "https" || url.port().is_some() || url.path() != "/" {
        return Err(refused());
    }
    let Host::Domain(name) = host else {
        return Err(refused());
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let allowed = platform_suffixes
        .iter()
        .any(|suffix| is_one_label_under(&name, suffix))
        || policy
            .custom_domains
            .iter()
            .any(|custom| custom.trim_end_matches('.').eq_ignore_ascii_case(&name));
    if allowed {
        Ok(without_trailing_slash(url))
    } else {
        Err(IdpError::DomainNotAllowed {
            host: shorten(&name),
        })
    }
}

/// `name` is `<one label>.<suffix>`.
fn is_one_label_under(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

fn without_trailing_slash(mut url: Url) -> Url {
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    url
}

fn shorten(value: &str) -> String {
    value.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth0(domain: &str, policy: &HostPolicy) -> Result<Url, IdpError> {
        check_provider_host(domain, AUTH0_PLATFORM_SUFFIXES, policy)
    }

    #[test]
    fn platform_domains_are_accepted() {
        let policy = HostPolicy::default();
        for ok in [
            "acme.auth0.com",
            "acme.eu.auth0.com",
            "https://acme.us.auth0.com",
            "ACME.AU.AUTH0.COM",
            "acme.jp.auth0.com.",
        ] {
            assert!(auth0(ok, &policy).is_ok(), "{ok} should be allowed");
        }
    }

    #[test]
    fn lookalike_and_unsafe_hosts_are_refused() {
        let policy = HostPolicy::default();
        for bad in [
            "auth0.com",
            "evil.com.auth0.com.attacker.net",
            "a.b.auth0.com",
            "acme.auth0.com.evil.net",
            "acmeauth0.com",
            "http://acme.auth0.com",
            "https://acme.auth0.com:8443",
            "https://user:pw@acme.auth0.com",
            "https://acme.auth0.com/path",
            "https://acme.auth0.com/?q=1",
            "127.0.0.1",
            "http://127.0.0.1:8080",
            "169.254.169.254",
            "localhost",
            "",
        ] {
            assert!(
                matches!(auth0(bad, &policy), Err(IdpError::DomainNotAllowed { .. })),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn custom_domains_must_be_listed_exactly() {
        let policy = HostPolicy {
            custom_domains: vec!["login.example.com".into()],
            ..HostPolicy::default()
        };
        assert!(auth0("login.example.com", &policy).is_ok());
        assert!(auth0("LOGIN.example.com", &policy).is_ok());
        assert!(auth0("evil.login.example.com", &policy).is_err());
        assert!(auth0("example.com", &policy).is_err());
    }

    #[test]
    fn loopback_needs_the_explicit_test_flag() {
        let mut policy = HostPolicy::default();
        assert!(auth0("http://127.0.0.1:4000", &policy).is_err());
        policy.allow_insecure_loopback_for_tests = true;
        let url = auth0("http://127.0.0.1:4000/janrain/", &policy).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:4000/janrain");
        assert!(auth0("http://10.0.0.1:4000", &policy).is_err());
    }

    #[test]
    fn janrain_regions_are_accepted() {
        let policy = HostPolicy::default();
        let check = |d: &str| check_provider_host(d, JANRAIN_PLATFORM_SUFFIXES, &policy);
        assert!(check("acme.janraincapture.com").is_ok());
        assert!(check("acme.us-dev.janraincapture.com").is_ok());
        assert!(check("acme.auth0.com").is_err());
    }
}
