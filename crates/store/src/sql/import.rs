//! `passgate tenant import`: many tenants, one transaction.

use std::collections::BTreeSet;

use passgate_tenant::{ClientId, TenantId};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::count_u32;
use super::registry::{
    activate_in, active_row, add_client_in, client_ids_of, insert_version, touch_tenant,
};
use super::tenant_row::new_tenant_row;
use crate::entity::{client_ids, tenants};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::ClientIdRepo as _;
use crate::store::Store;

impl Store {
    pub(super) async fn import_in(
        txn: &DatabaseTransaction,
        items: &[TenantImport],
        author: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<ImportResult>> {
        let mut results = Vec::with_capacity(items.len());
        let mut additions = Vec::new();
        // Phase 1: tenants, versions, and client ids that go away (so a client id may move
        // between two tenants of the same import).
        for item in items {
            let sha = Sha256Digest::of(item.yaml.as_bytes()).to_hex();
            let new_version = || NewConfigVersion {
                yaml: item.yaml.clone(),
                author: author.to_owned(),
                comment: Some("imported".to_owned()),
            };
            let existing = tenants::Entity::find_by_id(item.id.as_str())
                .one(txn)
                .await?;
            let mut outcome = match existing {
                None => {
                    new_tenant_row(&item.id, &item.display_name, now)
                        .insert(txn)
                        .await?;
                    let row = insert_version(txn, &item.id, new_version(), now).await?;
                    activate_in(txn, &item.id, count_u32(row.version)).await?;
                    ImportOutcome::Created
                }
                Some(row) => {
                    let active = active_row(txn, &item.id).await?;
                    if active.as_ref().is_some_and(|a| a.sha256 == sha) {
                        ImportOutcome::Unchanged
                    } else {
                        touch_tenant(txn, &item.id, now).await?;
                        if row.display_name != item.display_name {
                            tenants::ActiveModel {
                                id: sea_orm::Unchanged(row.id.clone()),
                                display_name: Set(item.display_name.clone()),
                                ..Default::default()
                            }
                            .update(txn)
                            .await?;
                        }
                        let new = insert_version(txn, &item.id, new_version(), now).await?;
                        let version = count_u32(new.version);
                        activate_in(txn, &item.id, version).await?;
                        ImportOutcome::Updated { version }
                    }
                }
            };
            let current: BTreeSet<ClientId> =
                client_ids_of(txn, &item.id).await?.into_iter().collect();
            let wanted: BTreeSet<ClientId> = item.client_ids.iter().cloned().collect();
            let removed: Vec<&ClientId> = current.difference(&wanted).collect();
            if !removed.is_empty() {
                client_ids::Entity::delete_many()
                    .filter(client_ids::Column::TenantId.eq(item.id.as_str()))
                    .filter(client_ids::Column::ClientId.is_in(removed.iter().map(|c| c.as_str())))
                    .exec(txn)
                    .await?;
            }
            let added: Vec<ClientId> = wanted.difference(&current).cloned().collect();
            if (!removed.is_empty() || !added.is_empty()) && outcome == ImportOutcome::Unchanged {
                let version = active_row(txn, &item.id)
                    .await?
                    .map_or(0, |r| count_u32(r.version));
                outcome = ImportOutcome::Updated { version };
            }
            additions.push((item.id.clone(), added));
            results.push(ImportResult {
                tenant_id: item.id.clone(),
                outcome,
            });
        }
        // Phase 2: new client ids, each checked against every tenant.
        for (tenant, added) in additions {
            for client in added {
                add_client_in(txn, &tenant, &client, now).await?;
            }
        }
        Ok(results)
    }
}

/// Runs an import and announces the tenants it changed.
pub(super) async fn import_tenants(
    store: &Store,
    items: Vec<TenantImport>,
    author: &str,
    now: Timestamp,
) -> StoreResult<Vec<ImportResult>> {
    let txn = store.begin_write().await?;
    let results = match Store::import_in(&txn, &items, author, now).await {
        Err(StoreError::Database(err)) if StoreError::is_unique_violation(&err) => {
            // Lost a race with an import on another replica (PostgreSQL: the check saw nothing,
            // the insert hit the key). Nothing was written; name the client id that was taken.
            drop(txn);
            return Err(taken_client_id(store, &items).await?.unwrap_or(err.into()));
        }
        other => other?,
    };
    let changed: Vec<TenantId> = results
        .iter()
        .filter(|r| r.outcome != ImportOutcome::Unchanged)
        .map(|r| r.tenant_id.clone())
        .collect();
    store.commit_tenant_write(txn, &changed).await?;
    Ok(results)
}

/// The first client id of `items` that another tenant owns, as [`StoreError::DuplicateClientId`].
async fn taken_client_id(store: &Store, items: &[TenantImport]) -> StoreResult<Option<StoreError>> {
    for item in items {
        for client in &item.client_ids {
            if let Some(owner) = store.tenant_of(client).await?
                && owner != item.id
            {
                return Ok(Some(StoreError::DuplicateClientId {
                    client_id: client.clone(),
                    owner,
                }));
            }
        }
    }
    Ok(None)
}
