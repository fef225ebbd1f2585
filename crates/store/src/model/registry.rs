//! Tenants, their client ids and their config versions.

use passgate_tenant::{ClientId, TenantId};

use super::{EncryptedBlob, Timestamp};

/// Whether a tenant serves requests. A disabled tenant keeps its data but every client id of it
/// answers as disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantStatus {
    /// Serving.
    Active,
    /// Switched off by a platform admin.
    Disabled,
}

impl TenantStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Which identity provider a tenant uses and how to reach it. Set by platform admins (never by
/// product-owner YAML). The reset mode is not here: the YAML's `reset.mode` decides it (see
/// docs/identity-providers.md, "Where the mode lives").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProviderBinding {
    /// Mid-onboarding: no provider yet, so the tenant cannot run a reset.
    #[default]
    Unbound,
    /// An Auth0 tenant.
    Auth0(Auth0Binding),
    /// A Janrain / Akamai Identity Cloud app.
    Janrain(JanrainBinding),
}

impl ProviderBinding {
    /// `auth0` or `janrain`, the stored spelling; `None` when unbound.
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            Self::Unbound => None,
            Self::Auth0(_) => Some("auth0"),
            Self::Janrain(_) => Some("janrain"),
        }
    }
}

/// How to reach one Auth0 tenant's database connection, as production tenants are set up
/// (issue 15): the canonical domain for tokens, an optional custom domain users see, and the
/// app's own application for `change_password` and New Universal Login tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth0Binding {
    /// Where API calls go, e.g. `acme.eu.auth0.com` (or the simulator's URL in tests).
    pub domain: String,
    /// The canonical `{tenant}.{region}.auth0.com` when `domain` is not it: the audience.
    pub canonical_domain: Option<String>,
    /// The custom login domain (`login.acme.com`), sent as `auth0-custom-domain` on tickets.
    pub custom_domain: Option<String>,
    /// The database connection users live in.
    pub connection: String,
    /// The machine-to-machine client id (its secret is stored apart, sealed).
    pub client_id: String,
    /// The product's own application, which has the connection enabled.
    pub app_client_id: Option<String>,
    /// The tenant uses New Universal Login (tickets return through `app_client_id`).
    pub new_universal_login: bool,
    /// Management API audience override; `None`: `https://{canonical}/api/v2/`.
    pub audience: Option<String>,
}

impl Auth0Binding {
    /// A binding of the plain shape: API calls and audience on `domain`, no custom domain,
    /// Classic Universal Login, the M2M client also used for `change_password`.
    pub fn new(
        domain: impl Into<String>,
        connection: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            domain: domain.into(),
            canonical_domain: None,
            custom_domain: None,
            connection: connection.into(),
            client_id: client_id.into(),
            app_client_id: None,
            new_universal_login: false,
            audience: None,
        }
    }
}

/// How to reach one Janrain Capture app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JanrainBinding {
    /// Capture domain, e.g. `acme.us.janraincapture.com`.
    pub domain: String,
    /// The API client that requests and redeems codes (its secret is stored apart, sealed).
    pub client_id: String,
    /// The Capture flow, e.g. `standard`.
    pub flow: String,
    /// The flow version; `None`: `HEAD` (whether real Capture accepts it is unconfirmed).
    pub flow_version: Option<String>,
    /// The API client's `password_recover_url` setting, the link Capture mails (plus
    /// `code=`); `None`: Passgate's own landing page, which the setting must then name.
    pub password_recover_url: Option<String>,
}

impl JanrainBinding {
    /// A binding on the `standard` flow at `HEAD`, mailing Passgate's landing page.
    pub fn new(domain: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            client_id: client_id.into(),
            flow: "standard".into(),
            flow_version: None,
            password_recover_url: None,
        }
    }
}

/// A tenant on the move from a Janrain app to its Auth0 binding (issue 19): where the
/// accounts not yet moved live and how resets treat them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveSource {
    /// The Capture domain, e.g. `acme.us.janraincapture.com`.
    pub domain: String,
    /// An API client with the `owner` or `direct_access` feature (entity read and update);
    /// its secret is stored apart, sealed.
    pub client_id: String,
    /// How resets treat accounts in each place.
    pub policy: MovePolicy,
}

/// A move's policy (see `MigrationPolicy` in passgate-idp, which it configures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MovePolicy {
    /// An account in both providers gets the new password in Janrain too.
    pub reset_source_too: bool,
    /// An account only in Janrain is created in Auth0 with the new password.
    pub migrate_on_reset: bool,
    /// Resets are served by Janrain alone; Auth0 is only asked, for the report.
    pub dry_run: bool,
}

/// A tenant row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant's id.
    pub id: TenantId,
    /// Human name for admin screens.
    pub display_name: String,
    /// Serving or disabled.
    pub status: TenantStatus,
    /// How to reach its identity provider.
    pub provider: ProviderBinding,
    /// The reset mode an old binding carried (deprecated: the YAML's `reset.mode` decides;
    /// kept so startup can warn when the two disagree). Cleared by the next binding write.
    pub legacy_mode: Option<String>,
    /// Whether a provider secret is stored (the secret itself is read only on purpose).
    pub has_provider_secret: bool,
    /// The Janrain app it is moving from, if it is on the move.
    pub moving_from: Option<MoveSource>,
    /// When the tenant was created.
    pub created_at: Timestamp,
    /// Last change to the tenant, its client ids or its config.
    pub updated_at: Timestamp,
}

/// What a platform admin supplies to create a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// The new tenant's id.
    pub id: TenantId,
    /// Human name.
    pub display_name: String,
    /// Usually [`TenantStatus::Active`].
    pub status: TenantStatus,
}

/// A tenant with its client ids and active version, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSummary {
    /// The tenant row.
    pub tenant: Tenant,
    /// Its client ids, sorted.
    pub client_ids: Vec<ClientId>,
    /// The active config version, if any.
    pub active_version: Option<u32>,
}

/// A config text to store as a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConfigVersion {
    /// The YAML exactly as written (comments and layout are kept for export and diffs).
    pub yaml: String,
    /// Who wrote it (API key label, `cli:import`, …), for the audit trail.
    pub author: String,
    /// Optional note from the author.
    pub comment: Option<String>,
}

/// A config version without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigVersionInfo {
    /// Whose version.
    pub tenant_id: TenantId,
    /// 1, 2, 3… per tenant.
    pub version: u32,
    /// SHA-256 of the YAML text, lowercase hex: "did it change?" without reading the text.
    pub sha256: String,
    /// Who wrote it.
    pub author: String,
    /// The author's note.
    pub comment: Option<String>,
    /// When it was stored.
    pub created_at: Timestamp,
    /// Whether it is the one being served.
    pub is_active: bool,
}

/// A config version with its YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigVersion {
    /// Metadata.
    pub info: ConfigVersionInfo,
    /// The YAML text.
    pub yaml: String,
}

/// Everything routing needs to build a tenant runtime for one client id, read in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRecord {
    /// The client id asked about.
    pub client_id: ClientId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Whether the tenant serves.
    pub status: TenantStatus,
    /// The active config, if the tenant has one.
    pub active: Option<ConfigVersion>,
}

/// One tenant of an import (`passgate tenant import`), already validated by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantImport {
    /// The tenant id from the YAML's `id`.
    pub id: TenantId,
    /// Display name from the YAML.
    pub display_name: String,
    /// The YAML's `client_ids`: after the import, the tenant has exactly these.
    pub client_ids: Vec<ClientId>,
    /// The YAML text.
    pub yaml: String,
}

/// Everything a tenant starts with (the admin API's tenant creation), stored by
/// [`crate::TenantRepo::onboard_tenant`] in one transaction.
#[derive(Debug, Clone)]
pub struct TenantOnboarding {
    /// The new tenant's id.
    pub id: TenantId,
    /// Its display name.
    pub display_name: String,
    /// Its client ids (none may belong to any tenant yet).
    pub client_ids: Vec<ClientId>,
    /// Version 1 of its YAML, validated by the caller; active at once.
    pub yaml: String,
    /// Who created it (stored as the version's author).
    pub author: String,
    /// Its identity provider, if bound already.
    pub provider: Option<ProviderBinding>,
    /// The provider secret, sealed by the caller.
    pub provider_secret: Option<EncryptedBlob>,
    /// Sender domains granted to it.
    pub sender_domains: Vec<String>,
}

/// A change to a tenant's row (the admin API's tenant update), applied by
/// [`crate::TenantRepo::update_tenant`] at once. `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantChange {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new provider binding (replaces every field of the old one).
    pub provider: Option<ProviderBinding>,
    /// A new provider secret, sealed by the caller.
    pub provider_secret: Option<EncryptedBlob>,
}

impl TenantChange {
    /// The parts this change sets, by name (for the audit).
    pub fn parts(&self) -> Vec<&'static str> {
        [
            ("display_name", self.display_name.is_some()),
            ("provider", self.provider.is_some()),
            ("provider_secret", self.provider_secret.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// What an import did to one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new tenant with version 1.
    Created,
    /// A new active version (its YAML or client ids changed).
    Updated {
        /// The now active version.
        version: u32,
    },
    /// Nothing changed.
    Unchanged,
}

/// The outcome of an import for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResult {
    /// The tenant.
    pub tenant_id: TenantId,
    /// What happened to it.
    pub outcome: ImportOutcome,
}

/// A provider secret to store (already encrypted by the caller).
pub type ProviderSecret = EncryptedBlob;
