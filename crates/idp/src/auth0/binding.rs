//! How an [`Auth0Config`] maps onto a production tenant: the Management API audience comes
//! from the canonical tenant domain (never a custom domain, spec D1), and combinations that
//! a real tenant would refuse are rejected before any request.

use url::Url;

use super::Auth0Config;
use crate::IdpError;
use crate::domain::{AUTH0_PLATFORM_SUFFIXES, HostPolicy, check_provider_host};

fn invalid(reason: impl Into<String>) -> IdpError {
    IdpError::InvalidConfig {
        reason: reason.into(),
    }
}

/// The audience to request: the explicit override, else `https://{canonical}/api/v2/` where
/// the canonical domain is `canonical_domain` or the host (and port) of `base`. Always
/// `https`, even when `base` is a plain-http loopback simulator: the identifier is a name.
pub(super) fn audience(config: &Auth0Config, base: &Url) -> Result<String, IdpError> {
    if let Some(audience) = &config.audience {
        let host = Url::parse(audience)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .ok_or_else(|| invalid("Auth0 audience must be an absolute URL"))?;
        if config
            .custom_domain
            .as_deref()
            .is_some_and(|d| d.trim_end_matches('.').eq_ignore_ascii_case(&host))
        {
            return Err(invalid(
                "Auth0 audience names the custom domain; the Management API identifier is \
                 https://{canonical tenant domain}/api/v2/ (a custom domain answers \
                 \"Service not found\")",
            ));
        }
        return Ok(audience.clone());
    }
    let canonical = match &config.canonical_domain {
        Some(domain) => {
            // The canonical domain is an Auth0 platform name, never a custom domain.
            let url = check_provider_host(domain, AUTH0_PLATFORM_SUFFIXES, &HostPolicy::default())
                .map_err(|_| {
                    invalid(
                        "Auth0 canonical_domain must be the tenant's own \
                         {tenant}.{region}.auth0.com domain",
                    )
                })?;
            url.host_str().unwrap_or_default().to_owned()
        }
        None => {
            let host = base.host_str().unwrap_or_default();
            match base.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            }
        }
    };
    if config
        .custom_domain
        .as_deref()
        .is_some_and(|d| d.trim_end_matches('.').eq_ignore_ascii_case(&canonical))
    {
        return Err(invalid(
            "Auth0 domain is the custom domain; set domain (or canonical_domain) to the \
             tenant's {tenant}.{region}.auth0.com name and custom_domain to the login host",
        ));
    }
    Ok(format!("https://{canonical}/api/v2/"))
}

/// Refuses settings that cannot work together on a real tenant.
pub(super) fn check_combination(config: &Auth0Config) -> Result<(), IdpError> {
    if config.new_universal_login && config.app_client_id.is_none() {
        return Err(invalid(
            "Auth0 new_universal_login needs app_client_id: New Universal Login ignores \
             result_url and returns users through the ticket's application",
        ));
    }
    if config
        .app_client_id
        .as_deref()
        .is_some_and(|id| id.trim().is_empty())
    {
        return Err(invalid("Auth0 app_client_id must not be empty"));
    }
    if config
        .custom_domain
        .as_deref()
        .is_some_and(|d| d.trim().is_empty() || d.contains('/') || d.contains(':'))
    {
        return Err(invalid(
            "Auth0 custom_domain is a bare host name such as login.acme.com",
        ));
    }
    Ok(())
}
