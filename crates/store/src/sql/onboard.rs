//! Tenant onboarding (the admin API's tenant creation): the tenant row with its provider
//! binding and sealed secret, version 1 of its YAML, its client ids and its sender-domain
//! grants, in one transaction, so a refused or failed creation leaves nothing behind.

use passgate_tenant::TenantId;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait};

use super::binding::set_binding_columns;
use super::count_u32;
use super::grants::insert_missing;
use super::registry::{activate_in, add_client_in, insert_version};
use super::tenant_row::{new_tenant_row, set_secret};
use crate::entity::tenants;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::{ClientIdRepo as _, TenantRepo as _};
use crate::store::Store;

/// Runs the onboarding and announces the new tenant.
pub(super) async fn onboard_tenant(
    store: &Store,
    new: TenantOnboarding,
    now: Timestamp,
) -> StoreResult<()> {
    let txn = store.begin_write().await?;
    match onboard_in(&txn, &new, now).await {
        Ok(()) => {
            store
                .commit_tenant_write(txn, std::slice::from_ref(&new.id))
                .await
        }
        Err(StoreError::Database(err)) if StoreError::is_unique_violation(&err) => {
            // Lost a race with another replica (PostgreSQL: the checks saw nothing, an insert
            // hit a key). Nothing was written; name what was taken.
            drop(txn);
            Err(taken(store, &new).await?.unwrap_or(err.into()))
        }
        Err(err) => Err(err),
    }
}

async fn onboard_in(
    txn: &DatabaseTransaction,
    new: &TenantOnboarding,
    now: Timestamp,
) -> StoreResult<()> {
    if tenants::Entity::find_by_id(new.id.as_str())
        .one(txn)
        .await?
        .is_some()
    {
        return Err(StoreError::TenantExists(new.id.clone()));
    }
    let mut row = new_tenant_row(&new.id, &new.display_name, now);
    if let Some(binding) = &new.provider {
        set_binding_columns(&mut row, binding.clone());
    }
    if let Some(secret) = &new.provider_secret {
        set_secret(&mut row, Some(secret.clone()));
    }
    row.insert(txn).await?;
    let version = NewConfigVersion {
        yaml: new.yaml.clone(),
        author: new.author.clone(),
        comment: Some("created".to_owned()),
    };
    let stored = insert_version(txn, &new.id, version, now).await?;
    activate_in(txn, &new.id, count_u32(stored.version)).await?;
    for client in &new.client_ids {
        add_client_in(txn, &new.id, client, now).await?;
    }
    insert_missing(
        txn,
        &new.id,
        MailGrant::SenderDomain,
        &new.sender_domains,
        now,
    )
    .await?;
    Ok(())
}

/// After a lost race: the taken tenant id or client id, as the error the check would give.
async fn taken(store: &Store, new: &TenantOnboarding) -> StoreResult<Option<StoreError>> {
    if store.tenant(&new.id).await?.is_some() {
        return Ok(Some(StoreError::TenantExists(new.id.clone())));
    }
    for client in &new.client_ids {
        if let Some(owner) = store.tenant_of(client).await? {
            return Ok(Some(duplicate(client, owner)));
        }
    }
    Ok(None)
}

fn duplicate(client: &passgate_tenant::ClientId, owner: TenantId) -> StoreError {
    StoreError::DuplicateClientId {
        client_id: client.clone(),
        owner,
    }
}
