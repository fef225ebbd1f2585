//! Response bodies shared by several resources.

use chrono::{DateTime, Utc};
use passgate_store::{ProviderBinding, Tenant, TenantStatus};
use passgate_tenant::ClientId;
use poem_openapi::{Enum, Object};

/// Whether a tenant serves requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum StatusName {
    /// Serving.
    Active,
    /// Switched off by a platform admin.
    Disabled,
}

/// The provider binding as shown: never the secret, only whether one is stored.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProviderView {
    /// `auth0` or `janrain`.
    pub kind: Option<String>,
    /// Provider domain.
    pub domain: Option<String>,
    /// Management API client id.
    pub management_client_id: Option<String>,
    /// Connection (Auth0) or flow (Janrain).
    pub connection: Option<String>,
    /// Reset mode.
    pub mode: Option<String>,
    /// Whether a management client secret is stored (sealed).
    pub has_secret: bool,
}

/// A tenant.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TenantView {
    /// Tenant id.
    pub id: String,
    /// Human name.
    pub display_name: String,
    /// Serving or disabled.
    pub status: StatusName,
    /// Registered client ids, sorted.
    pub client_ids: Vec<String>,
    /// Identity provider binding (secret omitted).
    pub provider: ProviderView,
    /// The active config version.
    pub active_version: Option<u32>,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

impl TenantView {
    /// The view of a tenant row.
    pub fn new(tenant: Tenant, client_ids: Vec<ClientId>, active_version: Option<u32>) -> Self {
        let ProviderBinding {
            kind,
            domain,
            connection,
            mode,
            client_id,
        } = tenant.provider;
        Self {
            id: tenant.id.as_str().to_owned(),
            display_name: tenant.display_name,
            status: match tenant.status {
                TenantStatus::Active => StatusName::Active,
                TenantStatus::Disabled => StatusName::Disabled,
            },
            client_ids: client_ids.iter().map(|c| c.as_str().to_owned()).collect(),
            provider: ProviderView {
                kind,
                domain,
                management_client_id: client_id,
                connection,
                mode,
                has_secret: tenant.has_provider_secret,
            },
            active_version,
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}
