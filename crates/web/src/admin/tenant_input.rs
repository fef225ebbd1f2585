//! Request bodies of tenant management: what a platform admin sends to create or change a
//! tenant. Every body refuses unknown fields; secret-bearing ones redact their `Debug`.

use std::fmt;

use poem_openapi::{Enum, Object};

use super::strict::Text;

/// Identity provider family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Auth0 (Authentication + Management API).
    Auth0,
    /// Janrain / Akamai Identity Cloud (Capture API).
    Janrain,
}

/// Reset mode of the tenant (mirrors the YAML's `reset.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ResetModeName {
    /// Passgate hosts the pages and sends the link or code.
    Hosted,
    /// Auth0 issues a ticket that Passgate mails.
    Auth0Ticket,
    /// Auth0 sends its own email.
    Auth0Email,
    /// Janrain emails a code link to Passgate's page.
    Janrain,
}

/// How to reach the tenant's identity provider. The secret is write-only.
#[derive(Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ProviderInput {
    /// Provider family.
    pub kind: ProviderKind,
    /// Provider domain, e.g. `acme.eu.auth0.com` (checked against the allowed hosts).
    #[oai(validator(min_length = 1, max_length = 253))]
    pub domain: Text,
    /// Management API (M2M) client id.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub management_client_id: Text,
    /// Management API client secret: stored sealed (AES-256-GCM), never returned.
    #[oai(write_only, validator(min_length = 1, max_length = 512))]
    pub management_client_secret: Option<Text>,
    /// Auth0 database connection (required for Auth0) or Janrain flow (default `standard`).
    #[oai(validator(min_length = 1, max_length = 128))]
    pub connection: Option<Text>,
    /// Deprecated: the tenant YAML's `reset.mode` decides. Still read: it must fit the
    /// provider, and it is the mode of the default YAML when a tenant is created without one.
    #[oai(deprecated)]
    pub mode: Option<ResetModeName>,
    /// Auth0: the canonical `{tenant}.{region}.auth0.com` when `domain` is not it; the
    /// Management API audience is `https://{canonical_domain}/api/v2/`.
    #[oai(validator(min_length = 1, max_length = 253))]
    pub canonical_domain: Option<Text>,
    /// Auth0: the custom login domain (`login.acme.com`), sent as `auth0-custom-domain` on
    /// tickets. Never the audience.
    #[oai(validator(min_length = 1, max_length = 253))]
    pub custom_domain: Option<Text>,
    /// Auth0: the app's own application (with the connection enabled), the `client_id` of
    /// `change_password` and of New Universal Login tickets.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub app_client_id: Option<Text>,
    /// Auth0: the tenant uses New Universal Login (needs `app_client_id`). Default false.
    pub new_universal_login: Option<bool>,
    /// Auth0: Management API audience override (never the custom domain).
    #[oai(validator(min_length = 1, max_length = 512))]
    pub audience: Option<Text>,
    /// Janrain: the flow version (default `HEAD`).
    #[oai(validator(min_length = 1, max_length = 64))]
    pub flow_version: Option<Text>,
    /// Janrain: the API client's `password_recover_url` setting, the link Capture mails;
    /// must be Passgate's `/reset/janrain?client_id=…` page (default: that page for the
    /// tenant's first client id).
    #[oai(validator(min_length = 1, max_length = 2048))]
    pub password_recover_url: Option<Text>,
}

impl fmt::Debug for ProviderInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderInput")
            .field("kind", &self.kind)
            .field("domain", &self.domain)
            .field("management_client_id", &self.management_client_id)
            .field(
                "management_client_secret",
                &self.management_client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("connection", &self.connection)
            .field("mode", &self.mode)
            .field("canonical_domain", &self.canonical_domain)
            .field("custom_domain", &self.custom_domain)
            .field("app_client_id", &self.app_client_id)
            .field("new_universal_login", &self.new_universal_login)
            .field("audience", &self.audience)
            .field("flow_version", &self.flow_version)
            .field("password_recover_url", &self.password_recover_url)
            .finish()
    }
}

/// A new tenant.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateTenant {
    /// Tenant id: lowercase letters, digits and `-`, starting with a letter.
    #[oai(validator(min_length = 1, max_length = 63))]
    pub id: Text,
    /// Human name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub display_name: Text,
    /// The apps' client ids (unique across all tenants).
    #[oai(validator(max_items = 100))]
    pub client_ids: Vec<Text>,
    /// Identity provider binding.
    pub provider: Option<ProviderInput>,
    /// Initial tenant YAML; a minimal default (theme `default`, English) when absent.
    #[oai(validator(max_length = 262144))]
    pub yaml: Option<Text>,
    /// Domains the tenant's `email.from` may use (see `PUT …/sender-domains`); none: only
    /// the platform's sender domain.
    #[oai(default, validator(max_items = 50))]
    pub sender_domains: Vec<Text>,
}

/// Changes to a tenant; absent fields stay as they are.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateTenant {
    /// New human name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub display_name: Option<Text>,
    /// New provider binding; a secret given here replaces the stored one.
    pub provider: Option<ProviderInput>,
}

/// A client id to register.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ClientIdInput {
    /// The app's client id.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub client_id: Text,
}

/// A new provider client secret.
#[derive(Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct SecretInput {
    /// The secret; stored sealed, never returned.
    #[oai(write_only, validator(min_length = 1, max_length = 512))]
    pub secret: Text,
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput([redacted])")
    }
}
