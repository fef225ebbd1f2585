//! Rows the admin API writes: API keys, audit events and what a tenant may send mail as
//! and to.

use passgate_tenant::{ClientId, TenantId};

use super::{ApiKeyId, AuditId, Sha256Digest, Timestamp};

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiRole {
    /// Everything: tenants, client ids, secrets, keys, every audit log.
    PlatformAdmin,
    /// Read and edit the config of the tenants in the key's scope.
    TenantEditor,
}

impl ApiRole {
    /// The stored and displayed spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAdmin => "platform-admin",
            Self::TenantEditor => "tenant-editor",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "platform-admin" => Some(Self::PlatformAdmin),
            "tenant-editor" => Some(Self::TenantEditor),
            _ => None,
        }
    }
}

/// An API key to store: only its hash is kept, plus a short prefix to recognise it in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// SHA-256 of the full key.
    pub key_hash: Sha256Digest,
    /// The first characters of the key (e.g. `pgk_ab12`), safe to display.
    pub prefix: String,
    /// Its role.
    pub role: ApiRole,
    /// Tenants an editor key may touch (empty for platform admins).
    pub tenants: Vec<TenantId>,
    /// Human label.
    pub label: String,
    /// SHA-256 of the key holder's own address (normalised), if one was registered: the
    /// one address besides a tenant's allowed test recipients a test email may go to.
    /// Only the hash is kept, so the table holds no address in clear.
    pub owner_email_hash: Option<Sha256Digest>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Row id.
    pub id: ApiKeyId,
    /// Display prefix.
    pub prefix: String,
    /// Role.
    pub role: ApiRole,
    /// Editor scope.
    pub tenants: Vec<TenantId>,
    /// Label.
    pub label: String,
    /// SHA-256 of the holder's registered address, if any (see [`NewApiKey`]).
    pub owner_email_hash: Option<Sha256Digest>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last successful use.
    pub last_used_at: Option<Timestamp>,
    /// Revocation time; a revoked key authenticates nothing.
    pub revoked_at: Option<Timestamp>,
    /// Set for a person the company's OIDC provider signs in (`issuer sub`): the row holds
    /// no key anyone was given, only the person's console role and scope.
    pub oidc_subject: Option<String>,
}

/// A person the company's OIDC provider just signed in, as the console maps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    /// `issuer` + space + `sub`: stable across sign-ins, unique per person.
    pub subject: String,
    /// SHA-256 of random bytes nobody is given (the row must not be usable as a key).
    pub unusable_key_hash: Sha256Digest,
    /// Display prefix.
    pub prefix: String,
    /// The role the claims map to.
    pub role: ApiRole,
    /// The tenants the claims map to (editors).
    pub tenants: Vec<TenantId>,
    /// Label: the person's name or address.
    pub label: String,
    /// Sign-in time.
    pub now: Timestamp,
}

/// An audit event to append. `details` must hold no secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    /// The tenant concerned; `None` for platform-level events.
    pub tenant_id: Option<TenantId>,
    /// Who: an API key label/prefix, `system`, or `user:<id>`.
    pub actor: String,
    /// What, e.g. `config.activate`, `reset.complete`.
    pub action: String,
    /// `ok`, `denied`, `failed:<reason>`…
    pub outcome: String,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// The app involved.
    pub client_id: Option<ClientId>,
    /// Structured extras (no secrets).
    pub details: serde_json::Value,
    /// When.
    pub created_at: Timestamp,
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Row id (increasing).
    pub id: AuditId,
    /// The event.
    pub event: NewAuditEvent,
}

/// What a platform admin grants a tenant for its mail; a tenant editor can grant nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailGrant {
    /// A domain the tenant's `email.from` may use (`acme-shop.example.com`), lowercase.
    SenderDomain,
    /// An address test emails of the tenant may be sent to, lowercase.
    TestRecipient,
}

impl MailGrant {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SenderDomain => "sender-domain",
            Self::TestRecipient => "test-recipient",
        }
    }
}
