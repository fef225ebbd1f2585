//! The `Host` check (security.md item 41): every request to the pages, the public API and the
//! admin API names a host this gateway serves — the public URL's host or a configured custom
//! host — or is refused with 400 before any handler runs.
//!
//! Refused: no `Host` at all (HTTP/1.0 clients, hand-written requests), more than one `Host`,
//! a value that is not UTF-8, an unknown host, and an absolute request URI
//! (`GET http://evil.example/reset`) whose authority is not the `Host` it came with. Links
//! are never built from the request (the engine uses the configured public URL), so this is
//! defence in depth against cache poisoning and host-confused proxies, not the only guard.
//!
//! The health probes (`/healthz`, `/readyz`) and `/metrics` are mounted outside this check
//! by the binary: load balancers and kubelets call them by IP.

use poem::{
    Request,
    http::{Version, header},
};

use crate::settings::WebSettings;

/// Why a request's host was refused (for the log line; the client sees a plain 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRefusal {
    /// No `Host` header (and no HTTP/2 `:authority`).
    Missing,
    /// `Host` sent more than once, or not as visible ASCII.
    Malformed,
    /// A host this gateway does not serve.
    Unknown,
    /// An absolute request URI naming another authority than `Host`.
    AuthorityMismatch,
}

impl HostRefusal {
    /// A stable name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::AuthorityMismatch => "authority_mismatch",
        }
    }
}

/// `host` without an explicit default port, lowercased, for comparing two spellings.
fn normalized(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    host.strip_suffix(":443")
        .or_else(|| host.strip_suffix(":80"))
        .map_or_else(|| host.clone(), str::to_owned)
}

/// Checks the request's host against the configured public and custom hosts.
pub fn check(settings: &WebSettings, req: &Request) -> Result<(), HostRefusal> {
    let mut values = req.headers().get_all(header::HOST).iter();
    let header_host = match (values.next(), values.next()) {
        (Some(value), None) => Some(value.to_str().map_err(|_| HostRefusal::Malformed)?),
        (Some(_), Some(_)) => return Err(HostRefusal::Malformed),
        (None, _) => None,
    };
    // An absolute-form request URI keeps its authority (nesting rewrites only the path).
    let authority = req
        .uri()
        .authority()
        .or_else(|| req.original_uri().authority())
        .map(|a| a.as_str());
    let host = match (header_host, authority) {
        (Some(host), _) => host,
        // HTTP/2 carries the host in `:authority` instead of `Host`.
        (None, Some(authority)) if req.version() >= Version::HTTP_2 => authority,
        (None, _) => return Err(HostRefusal::Missing),
    };
    if host.is_empty() || host.contains('@') || !settings.is_known_host(host) {
        return Err(HostRefusal::Unknown);
    }
    if let Some(authority) = authority
        && (authority.contains('@') || normalized(authority) != normalized(host))
    {
        return Err(HostRefusal::AuthorityMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebSettings {
        let mut settings = WebSettings::new("https://reset.example.com");
        settings
            .custom_hosts
            .insert("reset.acme.example".into(), "acme-ios".into());
        settings
    }

    fn request(uri: &str, hosts: &[&str]) -> Request {
        let mut builder = Request::builder().uri(uri.parse().unwrap());
        for host in hosts {
            builder = builder.header(header::HOST, *host);
        }
        builder.finish()
    }

    #[test]
    fn known_hosts_pass_everything_else_is_refused() {
        let s = settings();
        assert_eq!(
            check(&s, &request("/reset", &["reset.example.com"])),
            Ok(())
        );
        assert_eq!(
            check(&s, &request("/reset", &["reset.acme.example"])),
            Ok(())
        );
        assert_eq!(
            check(
                &s,
                &request(
                    "https://reset.example.com:443/reset",
                    &["reset.example.com"]
                )
            ),
            Ok(())
        );
        let refused = [
            (request("/reset", &[]), HostRefusal::Missing),
            (
                request("/reset", &["reset.example.com", "reset.example.com"]),
                HostRefusal::Malformed,
            ),
            (request("/reset", &["evil.example"]), HostRefusal::Unknown),
            (request("/reset", &[""]), HostRefusal::Unknown),
            (
                request("/reset", &["reset.example.com@evil.example"]),
                HostRefusal::Unknown,
            ),
            (
                request("http://evil.example/reset", &["reset.example.com"]),
                HostRefusal::AuthorityMismatch,
            ),
            (
                request("http://reset.acme.example/reset", &["reset.example.com"]),
                HostRefusal::AuthorityMismatch,
            ),
        ];
        for (req, why) in refused {
            assert_eq!(check(&s, &req), Err(why), "{:?}", req.uri());
        }
    }
}
