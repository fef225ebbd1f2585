//! API keys: mint one (its scope checked against its role) and revoke one (never the
//! caller's own, so an admin cannot lock themselves out by accident). One store write each,
//! audited without the secret.

use passgate_store::{ApiKeyId, ApiKeyRepo, ApiRole};
use passgate_tenant::TenantId;
use serde_json::json;

use crate::admin::auth::{MintedKey, Principal, create_key_with_email};
use crate::admin::state::AdminState;
use crate::problem::AdminError;

/// A key to mint (input already parsed: tenant ids valid, the email a lookup key).
#[derive(Debug)]
pub(crate) struct KeyRequest {
    /// What the key may do.
    pub role: ApiRole,
    /// The tenants a tenant-editor key may edit (none for a platform admin).
    pub tenants: Vec<TenantId>,
    /// A label for people.
    pub label: String,
    /// The owner's address in lookup form (test mails may go to it).
    pub email: Option<String>,
}

/// Mints and stores a key; a tenant-editor key needs at least one tenant, a platform-admin
/// key none ([`AdminError::InvalidScope`]). Audited as `key.create` (id, prefix, role,
/// tenants).
pub(crate) async fn create_key(
    state: &AdminState,
    actor: &Principal,
    request: KeyRequest,
) -> Result<(ApiKeyId, MintedKey), AdminError> {
    let scope_ok = match request.role {
        ApiRole::PlatformAdmin => request.tenants.is_empty(),
        ApiRole::TenantEditor => !request.tenants.is_empty(),
    };
    if !scope_ok {
        return Err(AdminError::InvalidScope);
    }
    let (id, minted) = create_key_with_email(
        state.store(),
        request.role,
        request.tenants,
        request.label,
        request.email.as_deref(),
        state.now(),
    )
    .await?;
    let record = &minted.record;
    let details = json!({
        "key_id": id.0,
        "prefix": record.prefix,
        "role": record.role.as_str(),
        "tenants": record.tenants.iter().map(TenantId::as_str).collect::<Vec<_>>(),
    });
    state.audit(actor, None, "key.create", details).await;
    Ok((id, minted))
}

/// Revokes `key` (it stops authenticating at once). Audited as `key.revoke`.
pub(crate) async fn revoke_key(
    state: &AdminState,
    actor: &Principal,
    key: ApiKeyId,
) -> Result<(), AdminError> {
    if key.0 == actor.key_id.0 {
        return Err(AdminError::CannotRevokeOwnKey);
    }
    if !state.store().revoke_api_key(key, state.now()).await? {
        return Err(AdminError::NotFound("active API key"));
    }
    state
        .audit(actor, None, "key.revoke", json!({ "key_id": key.0 }))
        .await;
    Ok(())
}
