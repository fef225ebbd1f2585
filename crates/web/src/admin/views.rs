//! Response bodies shared by several resources.

use chrono::{DateTime, Utc};
use passgate_store::{MoveSource, ProviderBinding, Tenant, TenantStatus};
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

/// The provider binding as shown: never the secret, only whether one is stored. Fields of
/// the other provider are absent.
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProviderView {
    /// `auth0` or `janrain`; absent while the tenant is unbound (mid-onboarding).
    pub kind: Option<String>,
    /// Provider domain.
    pub domain: Option<String>,
    /// Management API client id.
    pub management_client_id: Option<String>,
    /// Connection (Auth0) or flow (Janrain).
    pub connection: Option<String>,
    /// Deprecated: the reset mode an old binding stored. The tenant YAML's `reset.mode` is
    /// what runs.
    #[oai(deprecated)]
    pub mode: Option<String>,
    /// Auth0: the canonical tenant domain, when `domain` is not it.
    pub canonical_domain: Option<String>,
    /// Auth0: the custom login domain.
    pub custom_domain: Option<String>,
    /// Auth0: the app's own application client id.
    pub app_client_id: Option<String>,
    /// Auth0: whether the tenant uses New Universal Login.
    pub new_universal_login: Option<bool>,
    /// Auth0: the Management API audience override.
    pub audience: Option<String>,
    /// Janrain: the flow version.
    pub flow_version: Option<String>,
    /// Janrain: the API client's `password_recover_url` setting.
    pub password_recover_url: Option<String>,
    /// Whether a management client secret is stored (sealed).
    pub has_secret: bool,
}

impl ProviderView {
    /// The view of a stored binding.
    pub fn new(binding: ProviderBinding, legacy_mode: Option<String>, has_secret: bool) -> Self {
        let mut view = Self {
            kind: binding.kind().map(str::to_owned),
            mode: legacy_mode,
            has_secret,
            ..Self::default()
        };
        match binding {
            ProviderBinding::Unbound => {}
            ProviderBinding::Auth0(b) => {
                view.domain = Some(b.domain);
                view.management_client_id = Some(b.client_id);
                view.connection = Some(b.connection);
                view.canonical_domain = b.canonical_domain;
                view.custom_domain = b.custom_domain;
                view.app_client_id = b.app_client_id;
                view.new_universal_login = Some(b.new_universal_login);
                view.audience = b.audience;
            }
            ProviderBinding::Janrain(b) => {
                view.domain = Some(b.domain);
                view.management_client_id = Some(b.client_id);
                view.connection = Some(b.flow);
                view.flow_version = b.flow_version;
                view.password_recover_url = b.password_recover_url;
            }
        }
        view
    }
}

/// A tenant's move from Janrain to its Auth0 binding, as shown (never the secret).
#[derive(Debug, Clone, Object)]
pub struct MoveView {
    /// Capture domain of the Janrain app.
    pub source_domain: String,
    /// Its server-side API client.
    pub source_client_id: String,
    /// An account in both also gets the new password in Janrain.
    pub reset_source_too: bool,
    /// An account only in Janrain is created in Auth0 on reset.
    pub migrate_on_reset: bool,
    /// Janrain alone serves resets; Auth0 is only asked, for the report.
    pub dry_run: bool,
}

impl MoveView {
    fn new(source: MoveSource) -> Self {
        Self {
            source_domain: source.domain,
            source_client_id: source.client_id,
            reset_source_too: source.policy.reset_source_too,
            migrate_on_reset: source.policy.migrate_on_reset,
            dry_run: source.policy.dry_run,
        }
    }
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
    /// The Janrain app the tenant is moving from, while it moves (secret omitted).
    pub moving_from: Option<MoveView>,
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
        Self {
            id: tenant.id.as_str().to_owned(),
            display_name: tenant.display_name,
            status: match tenant.status {
                TenantStatus::Active => StatusName::Active,
                TenantStatus::Disabled => StatusName::Disabled,
            },
            client_ids: client_ids.iter().map(|c| c.as_str().to_owned()).collect(),
            provider: ProviderView::new(
                tenant.provider,
                tenant.legacy_mode,
                tenant.has_provider_secret,
            ),
            moving_from: tenant.moving_from.map(MoveView::new),
            active_version,
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}
