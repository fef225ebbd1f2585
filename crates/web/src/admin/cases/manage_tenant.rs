//! A tenant's smaller lifecycle writes: disable or enable it, delete it, register or remove
//! a client id, rotate its provider secret. Each is one store write (one transaction),
//! followed by the cache invalidation and the audit event every admin write gets.

use passgate_store::{ClientIdRepo, TenantChange, TenantRepo, TenantStatus};
use passgate_tenant::{ClientId, TenantId};
use secrecy::SecretString;
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::state::AdminState;
use crate::problem::AdminError;

/// [`AdminError::NotFound`] unless `tenant` exists.
async fn existing(state: &AdminState, tenant: &TenantId) -> Result<(), AdminError> {
    match state.store().tenant(tenant).await? {
        Some(_) => Ok(()),
        None => Err(AdminError::NotFound("tenant")),
    }
}

/// Disables (its apps stop being served) or re-enables `tenant`. Audited as `tenant.status`.
pub(crate) async fn set_status(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    status: TenantStatus,
) -> Result<(), AdminError> {
    existing(state, tenant).await?;
    state
        .store()
        .set_status(tenant, status, state.now())
        .await?;
    let details = json!({ "status": status.as_str() });
    state
        .tenant_changed(actor, tenant, "tenant.status", details)
        .await;
    Ok(())
}

/// Deletes `tenant` and everything that belongs to it (its audit events stay). Audited as
/// `tenant.delete`.
pub(crate) async fn delete_tenant(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
) -> Result<(), AdminError> {
    if !state.store().delete_tenant(tenant).await? {
        return Err(AdminError::NotFound("tenant"));
    }
    state
        .tenant_changed(actor, tenant, "tenant.delete", json!({}))
        .await;
    Ok(())
}

/// Registers `client` for `tenant` (unique across tenants: the store names the owner when
/// another tenant has it). Audited as `tenant.client_id.add`.
pub(crate) async fn add_client_id(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    client: &ClientId,
) -> Result<(), AdminError> {
    existing(state, tenant).await?;
    state
        .store()
        .add_client_id(tenant, client, state.now())
        .await?;
    let details = json!({ "client_id": client.as_str() });
    state
        .tenant_changed(actor, tenant, "tenant.client_id.add", details)
        .await;
    Ok(())
}

/// Removes `client` from `tenant` (the id may be cached as pointing at it: the change
/// invalidates). Audited as `tenant.client_id.remove`.
pub(crate) async fn remove_client_id(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    client: &ClientId,
) -> Result<(), AdminError> {
    if !state.store().remove_client_id(tenant, client).await? {
        return Err(AdminError::NotFound("client id"));
    }
    let details = json!({ "client_id": client.as_str() });
    state
        .tenant_changed(actor, tenant, "tenant.client_id.remove", details)
        .await;
    Ok(())
}

/// Seals `secret` under the active master key and replaces `tenant`'s stored one. Audited
/// as `tenant.provider_secret.rotate` with the key id (never the secret).
pub(crate) async fn rotate_provider_secret(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    secret: &SecretString,
) -> Result<(), AdminError> {
    existing(state, tenant).await?;
    let sealed = passgate_engine::seal_provider_secret(state.keyring(), tenant, secret)
        .map_err(|e| AdminError::Sealing(e.to_string()))?;
    let change = TenantChange {
        provider_secret: Some(sealed),
        ..TenantChange::default()
    };
    state
        .store()
        .update_tenant(tenant, change, state.now())
        .await?;
    let details = json!({ "key_id": state.keyring().active_key_id().as_str() });
    state
        .tenant_changed(actor, tenant, "tenant.provider_secret.rotate", details)
        .await;
    Ok(())
}
