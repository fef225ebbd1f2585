//! API keys (platform admins): mint (the key is in this one response and nowhere else),
//! list (prefixes and metadata only), revoke.

use std::fmt;

use chrono::{DateTime, Utc};
use passgate_engine::email_address::SubmittedEmail;
use passgate_store::{ApiKey, ApiKeyId, ApiKeyRepo, ApiRole};
use passgate_tenant::TenantId;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use secrecy::ExposeSecret;

use super::auth::{AdminAuth, require_platform_admin};
use super::cases::manage_keys::{KeyRequest, create_key, revoke_key};
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use crate::problem::{AdminProblem, Code};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum RoleName {
    /// Everything.
    #[oai(rename = "platform-admin")]
    PlatformAdmin,
    /// Config of the tenants in `tenants`.
    #[oai(rename = "tenant-editor")]
    TenantEditor,
}

impl From<ApiRole> for RoleName {
    fn from(role: ApiRole) -> Self {
        match role {
            ApiRole::PlatformAdmin => Self::PlatformAdmin,
            ApiRole::TenantEditor => Self::TenantEditor,
        }
    }
}

impl From<RoleName> for ApiRole {
    fn from(role: RoleName) -> Self {
        match role {
            RoleName::PlatformAdmin => Self::PlatformAdmin,
            RoleName::TenantEditor => Self::TenantEditor,
        }
    }
}

/// A key to mint.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateKey {
    /// Its role.
    pub role: RoleName,
    /// Tenants a `tenant-editor` may edit (required and non-empty for editors; must be
    /// empty for platform admins).
    #[oai(validator(max_items = 100))]
    pub tenants: Vec<Text>,
    /// A label saying whose key it is (shown in audit events).
    #[oai(validator(min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1f\x7f]+$"))]
    pub label: Text,
    /// The holder's own address: test emails sent with this key may go there. Only its
    /// SHA-256 is stored, so it is never shown again.
    /// Leave it out for none; `null` is refused (the schema says string).
    #[oai(validator(min_length = 3, max_length = 254))]
    pub email: MaybeUndefined<Text>,
}

/// A key as listed (never the key itself).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct KeyView {
    /// Key id (for revocation).
    pub id: i64,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// Role.
    pub role: RoleName,
    /// Editor scope.
    pub tenants: Vec<String>,
    /// Label.
    pub label: String,
    /// Whether an address is registered for the holder (test emails may go there).
    pub has_email: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last successful use (UTC, to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// For a person the company's OIDC provider signs in to the console: `issuer sub`.
    /// Such an entry holds no usable key; revoking it refuses the person's sign-ins.
    pub oidc_subject: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id.0,
            prefix: key.prefix,
            role: key.role.into(),
            tenants: key.tenants.iter().map(|t| t.as_str().to_owned()).collect(),
            label: key.label,
            has_email: key.owner_email_hash.is_some(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            oidc_subject: key.oidc_subject,
        }
    }
}

/// A freshly minted key: the only time the key is shown.
#[derive(Clone, Object)]
pub struct CreatedKeyView {
    /// The key: store it now, it cannot be shown again.
    pub key: String,
    /// Its metadata.
    pub metadata: KeyView,
}

impl fmt::Debug for CreatedKeyView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKeyView")
            .field("key", &"[redacted]")
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// Answer of minting a key.
#[derive(Debug, ApiResponse)]
pub enum KeyCreated {
    /// Minted; the key is in the body once.
    #[oai(status = 201)]
    Created(Json<CreatedKeyView>),
}

/// Answer of listing keys.
#[derive(Debug, ApiResponse)]
pub enum KeyList {
    /// Every key, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<KeyView>>),
}

/// Answer of revoking a key.
#[derive(Debug, ApiResponse)]
pub enum KeyRevoked {
    /// Revoked.
    #[oai(status = 204)]
    NoContent,
}

/// API key management (platform admins).
#[derive(Debug)]
pub struct KeysApi;

#[OpenApi(prefix_path = "/keys", tag = "Tags::Keys")]
impl KeysApi {
    /// Mint an API key
    #[oai(path = "/", method = "post", operation_id = "createKey")]
    async fn create(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        body: Json<CreateKey>,
    ) -> Result<KeyCreated, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "createKey").await?;
        let body = body.0;
        let tenants = body
            .tenants
            .iter()
            .map(|t| TenantId::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AdminProblem::from(Code::InvalidTenantId.detail(e.to_string())))?;
        let invalid_email = || {
            AdminProblem::from(
                Code::InvalidEmail.detail("`email` must be one plain email address, or left out"),
            )
        };
        if body.email.is_null() {
            return Err(invalid_email());
        }
        let email = body
            .email
            .value()
            .map(|raw| {
                SubmittedEmail::parse(raw)
                    .map(|e| e.lookup_key())
                    .ok_or_else(invalid_email)
            })
            .transpose()?;
        let request = KeyRequest {
            role: body.role.into(),
            tenants,
            label: body.label.into_string(),
            email,
        };
        let (id, minted) = create_key(state, &auth.0, request).await?;
        let record = minted.record.clone();
        let metadata = KeyView {
            id: id.0,
            prefix: record.prefix,
            role: record.role.into(),
            tenants: record
                .tenants
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            label: record.label,
            has_email: record.owner_email_hash.is_some(),
            created_at: record.created_at,
            last_used_at: None,
            revoked_at: None,
            oidc_subject: None,
        };
        Ok(KeyCreated::Created(Json(CreatedKeyView {
            key: minted.secret.expose_secret().to_owned(),
            metadata,
        })))
    }

    /// List API keys
    #[oai(path = "/", method = "get", operation_id = "listKeys")]
    async fn list(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
    ) -> Result<KeyList, AdminProblem> {
        require_platform_admin(*state, &auth.0, "listKeys").await?;
        let keys = state.store().list_api_keys().await?;
        Ok(KeyList::Ok(Json(
            keys.into_iter().map(KeyView::from).collect(),
        )))
    }

    /// Revoke an API key
    ///
    /// The key stops authenticating at once. A key cannot revoke itself.
    #[oai(path = "/:key_id", method = "delete", operation_id = "revokeKey")]
    async fn revoke(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Key id.
        key_id: Path<i64>,
    ) -> Result<KeyRevoked, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "revokeKey").await?;
        revoke_key(state, &auth.0, ApiKeyId(key_id.0)).await?;
        Ok(KeyRevoked::NoContent)
    }
}
