//! Tenants, client ids, config versions and route loading (import is in `import`).

use async_trait::async_trait;
use passgate_tenant::{ClientId, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use super::binding::{binding_from_row, move_from_row, set_binding_columns, set_move_columns};
use super::tenant_row::{apply_change, new_tenant_row, set_secret};
use super::{at, client_id, count_u32, tenant_id, to_i32};
use crate::entity::{client_ids, config_versions, tenants};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::{ClientIdRepo, ConfigVersionRepo, RouteSource, TenantRepo};
use crate::store::Store;

fn tenant_from_row(row: tenants::Model) -> StoreResult<Tenant> {
    let status = TenantStatus::parse(&row.status)
        .ok_or_else(|| StoreError::corrupt("tenants", "unknown status"))?;
    Ok(Tenant {
        id: tenant_id("tenants", &row.id)?,
        provider: binding_from_row(&row)?,
        moving_from: move_from_row(&row)?,
        legacy_mode: row.provider_mode,
        display_name: row.display_name,
        status,
        has_provider_secret: row.provider_secret_ciphertext.is_some(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn version_info(row: &config_versions::Model) -> StoreResult<ConfigVersionInfo> {
    Ok(ConfigVersionInfo {
        tenant_id: tenant_id("tenant_config_versions", &row.tenant_id)?,
        version: count_u32(row.version),
        sha256: row.sha256.clone(),
        author: row.author.clone(),
        comment: row.comment.clone(),
        created_at: row.created_at,
        is_active: row.is_active,
    })
}

fn version_from_row(row: config_versions::Model) -> StoreResult<ConfigVersion> {
    Ok(ConfigVersion {
        info: version_info(&row)?,
        yaml: row.yaml,
    })
}

/// Bumps the tenant's `updated_at`. Every tenant write starts with it: on PostgreSQL the row
/// lock serialises concurrent writers of one tenant (two activations cannot interleave), and a
/// missing tenant is detected before anything else is written.
pub(super) async fn touch_tenant<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    now: Timestamp,
) -> StoreResult<()> {
    let result = tenants::Entity::update_many()
        .col_expr(tenants::Column::UpdatedAt, Expr::value(at(now)))
        .filter(tenants::Column::Id.eq(tenant.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::UnknownTenant(tenant.clone()));
    }
    Ok(())
}

/// Fails with [`StoreError::VersionConflict`] unless `expected` (0: none) is the active
/// version. Inside a write transaction that has already touched the tenant row, so the answer
/// holds until commit: the update locked the row on PostgreSQL (a concurrent writer waits, then
/// reads the committed state), and SQLite write transactions are serial.
pub(super) async fn expect_active<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    expected: u32,
) -> StoreResult<()> {
    let active = active_row(db, tenant)
        .await?
        .map_or(0, |row| count_u32(row.version));
    if active == expected {
        Ok(())
    } else {
        Err(StoreError::VersionConflict {
            tenant: tenant.clone(),
            active,
        })
    }
}

/// Makes `version` the only active version of `tenant` (inside a write transaction that has
/// already touched the tenant row).
pub(super) async fn activate_in<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    version: u32,
) -> StoreResult<()> {
    let exists = config_versions::Entity::find_by_id((tenant.as_str().to_owned(), to_i32(version)))
        .one(db)
        .await?;
    if exists.is_none() {
        return Err(StoreError::UnknownVersion {
            tenant: tenant.clone(),
            version,
        });
    }
    // Deactivate first, then activate: the partial unique index is checked row by row.
    config_versions::Entity::update_many()
        .col_expr(config_versions::Column::IsActive, Expr::value(false))
        .filter(config_versions::Column::TenantId.eq(tenant.as_str()))
        .filter(config_versions::Column::IsActive.eq(true))
        .exec(db)
        .await?;
    config_versions::Entity::update_many()
        .col_expr(config_versions::Column::IsActive, Expr::value(true))
        .filter(config_versions::Column::TenantId.eq(tenant.as_str()))
        .filter(config_versions::Column::Version.eq(to_i32(version)))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores a new (inactive) version numbered after the newest one.
pub(super) async fn insert_version<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    new: NewConfigVersion,
    now: Timestamp,
) -> StoreResult<config_versions::Model> {
    let last = config_versions::Entity::find()
        .filter(config_versions::Column::TenantId.eq(tenant.as_str()))
        .order_by_desc(config_versions::Column::Version)
        .one(db)
        .await?;
    let version = last.map_or(1, |row| row.version.saturating_add(1));
    let row = config_versions::ActiveModel {
        tenant_id: Set(tenant.as_str().to_owned()),
        version: Set(version),
        sha256: Set(Sha256Digest::of(new.yaml.as_bytes()).to_hex()),
        yaml: Set(new.yaml),
        author: Set(new.author),
        comment: Set(new.comment),
        created_at: Set(at(now)),
        is_active: Set(false),
    };
    Ok(row.insert(db).await?)
}

pub(super) async fn active_row<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
) -> StoreResult<Option<config_versions::Model>> {
    Ok(config_versions::Entity::find()
        .filter(config_versions::Column::TenantId.eq(tenant.as_str()))
        .filter(config_versions::Column::IsActive.eq(true))
        .one(db)
        .await?)
}

pub(super) async fn client_ids_of<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
) -> StoreResult<Vec<ClientId>> {
    client_ids::Entity::find()
        .filter(client_ids::Column::TenantId.eq(tenant.as_str()))
        .order_by_asc(client_ids::Column::ClientId)
        .all(db)
        .await?
        .iter()
        .map(|row| client_id("client_ids", &row.client_id))
        .collect()
}

/// Registers a client id after checking no tenant has it (inside a write transaction, so the
/// check and the insert are not raced on SQLite; on PostgreSQL a racing insert still fails on
/// the primary key).
pub(super) async fn add_client_in<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    client: &ClientId,
    now: Timestamp,
) -> StoreResult<()> {
    if let Some(owner) = client_ids::Entity::find_by_id(client.as_str())
        .one(db)
        .await?
    {
        return Err(StoreError::DuplicateClientId {
            client_id: client.clone(),
            owner: tenant_id("client_ids", &owner.tenant_id)?,
        });
    }
    client_ids::ActiveModel {
        client_id: Set(client.as_str().to_owned()),
        tenant_id: Set(tenant.as_str().to_owned()),
        created_at: Set(at(now)),
    }
    .insert(db)
    .await?;
    Ok(())
}

impl Store {
    /// Runs one tenant-scoped write in a transaction that first touches the tenant row, then
    /// notifies and commits.
    async fn update_tenant_row(
        &self,
        id: &TenantId,
        now: Timestamp,
        apply: impl FnOnce(&mut tenants::ActiveModel),
    ) -> StoreResult<()> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, id, now).await?;
        let mut row = tenants::ActiveModel {
            id: sea_orm::Unchanged(id.as_str().to_owned()),
            ..Default::default()
        };
        apply(&mut row);
        if row.is_changed() {
            row.update(&txn).await?;
        }
        self.commit_tenant_write(txn, std::slice::from_ref(id))
            .await
    }

    /// `id`'s row ([`StoreError::UnknownTenant`] when there is none).
    async fn tenant_row(&self, id: &TenantId) -> StoreResult<tenants::Model> {
        tenants::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::UnknownTenant(id.clone()))
    }
}

#[async_trait]
impl TenantRepo for Store {
    async fn create_tenant(&self, new: NewTenant, now: Timestamp) -> StoreResult<Tenant> {
        let txn = self.begin_write().await?;
        if tenants::Entity::find_by_id(new.id.as_str())
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::TenantExists(new.id));
        }
        let mut row = new_tenant_row(&new.id, &new.display_name, now);
        row.status = Set(new.status.as_str().to_owned());
        let row = row.insert(&txn).await.map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::TenantExists(new.id.clone())
            } else {
                e.into()
            }
        })?;
        self.commit_tenant_write(txn, std::slice::from_ref(&new.id))
            .await?;
        tenant_from_row(row)
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        tenants::Entity::find_by_id(id.as_str())
            .one(self.db())
            .await?
            .map(tenant_from_row)
            .transpose()
    }

    async fn list_tenants(&self) -> StoreResult<Vec<TenantSummary>> {
        let db = self.db();
        let rows = tenants::Entity::find()
            .order_by_asc(tenants::Column::Id)
            .all(db)
            .await?;
        let clients: Vec<(String, String)> = client_ids::Entity::find()
            .select_only()
            .column(client_ids::Column::TenantId)
            .column(client_ids::Column::ClientId)
            .order_by_asc(client_ids::Column::ClientId)
            .into_tuple()
            .all(db)
            .await?;
        let active: Vec<(String, i32)> = config_versions::Entity::find()
            .select_only()
            .column(config_versions::Column::TenantId)
            .column(config_versions::Column::Version)
            .filter(config_versions::Column::IsActive.eq(true))
            .into_tuple()
            .all(db)
            .await?;
        let mut clients_by: std::collections::HashMap<String, Vec<ClientId>> = Default::default();
        for (tenant, client) in clients {
            clients_by
                .entry(tenant)
                .or_default()
                .push(client_id("client_ids", &client)?);
        }
        let active_by: std::collections::HashMap<String, u32> =
            active.into_iter().map(|(t, v)| (t, count_u32(v))).collect();
        rows.into_iter()
            .map(|row| {
                let key = row.id.clone();
                Ok(TenantSummary {
                    tenant: tenant_from_row(row)?,
                    client_ids: clients_by.remove(&key).unwrap_or_default(),
                    active_version: active_by.get(&key).copied(),
                })
            })
            .collect()
    }

    async fn set_status(
        &self,
        id: &TenantId,
        status: TenantStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.update_tenant_row(id, now, |row| row.status = Set(status.as_str().to_owned()))
            .await
    }

    async fn set_provider(
        &self,
        id: &TenantId,
        binding: ProviderBinding,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.update_tenant_row(id, now, |row| set_binding_columns(row, binding))
            .await
    }

    async fn set_provider_secret(
        &self,
        id: &TenantId,
        secret: Option<EncryptedBlob>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.update_tenant_row(id, now, |row| set_secret(row, secret))
            .await
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        change: TenantChange,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.update_tenant_row(id, now, |row| apply_change(row, change))
            .await
    }

    async fn provider_secret(&self, id: &TenantId) -> StoreResult<Option<EncryptedBlob>> {
        let row = self.tenant_row(id).await?;
        Ok(sealed_blob(
            row.provider_secret_ciphertext,
            row.provider_secret_nonce,
            row.provider_secret_key_id,
        ))
    }

    async fn set_move(
        &self,
        id: &TenantId,
        moving: Option<(MoveSource, EncryptedBlob)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.update_tenant_row(id, now, |row| set_move_columns(row, moving))
            .await
    }

    async fn move_secret(&self, id: &TenantId) -> StoreResult<Option<EncryptedBlob>> {
        let row = self.tenant_row(id).await?;
        Ok(sealed_blob(
            row.move_secret_ciphertext,
            row.move_secret_nonce,
            row.move_secret_key_id,
        ))
    }

    async fn delete_tenant(&self, id: &TenantId) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        let deleted = tenants::Entity::delete_by_id(id.as_str())
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        self.commit_tenant_write(txn, std::slice::from_ref(id))
            .await?;
        Ok(true)
    }

    async fn onboard_tenant(&self, new: TenantOnboarding, now: Timestamp) -> StoreResult<()> {
        super::onboard::onboard_tenant(self, new, now).await
    }

    async fn import_tenants(
        &self,
        items: Vec<TenantImport>,
        author: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<ImportResult>> {
        super::import::import_tenants(self, items, author, now).await
    }
}

#[async_trait]
impl ClientIdRepo for Store {
    async fn add_client_id(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        now: Timestamp,
    ) -> StoreResult<()> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        match add_client_in(&txn, tenant, client, now).await {
            Err(StoreError::Database(e)) if StoreError::is_unique_violation(&e) => {
                // Lost a race with another replica: report who won.
                drop(txn);
                let owner = self
                    .tenant_of(client)
                    .await?
                    .unwrap_or_else(|| tenant.clone());
                Err(StoreError::DuplicateClientId {
                    client_id: client.clone(),
                    owner,
                })
            }
            Err(e) => Err(e),
            Ok(()) => {
                self.commit_tenant_write(txn, std::slice::from_ref(tenant))
                    .await
            }
        }
    }

    async fn remove_client_id(&self, tenant: &TenantId, client: &ClientId) -> StoreResult<bool> {
        let txn = self.begin_write().await?;
        let deleted = client_ids::Entity::delete_many()
            .filter(client_ids::Column::TenantId.eq(tenant.as_str()))
            .filter(client_ids::Column::ClientId.eq(client.as_str()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        self.commit_tenant_write(txn, std::slice::from_ref(tenant))
            .await?;
        Ok(true)
    }

    async fn client_ids(&self, tenant: &TenantId) -> StoreResult<Vec<ClientId>> {
        client_ids_of(self.db(), tenant).await
    }

    async fn tenant_of(&self, client: &ClientId) -> StoreResult<Option<TenantId>> {
        client_ids::Entity::find_by_id(client.as_str())
            .one(self.db())
            .await?
            .map(|row| tenant_id("client_ids", &row.tenant_id))
            .transpose()
    }
}

#[async_trait]
impl ConfigVersionRepo for Store {
    async fn create_version(
        &self,
        tenant: &TenantId,
        new: NewConfigVersion,
        activate: bool,
        now: Timestamp,
    ) -> StoreResult<ConfigVersionInfo> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        let mut row = insert_version(&txn, tenant, new, now).await?;
        if activate {
            activate_in(&txn, tenant, count_u32(row.version)).await?;
            row.is_active = true;
            self.commit_tenant_write(txn, std::slice::from_ref(tenant))
                .await?;
        } else {
            txn.commit().await?;
        }
        version_info(&row)
    }

    async fn activate_version(
        &self,
        tenant: &TenantId,
        version: u32,
        now: Timestamp,
    ) -> StoreResult<()> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        activate_in(&txn, tenant, version).await?;
        self.commit_tenant_write(txn, std::slice::from_ref(tenant))
            .await
    }

    async fn publish_version(
        &self,
        tenant: &TenantId,
        new: NewConfigVersion,
        expected_active: u32,
        now: Timestamp,
    ) -> StoreResult<ConfigVersionInfo> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        expect_active(&txn, tenant, expected_active).await?;
        let mut row = insert_version(&txn, tenant, new, now).await?;
        activate_in(&txn, tenant, count_u32(row.version)).await?;
        row.is_active = true;
        self.commit_tenant_write(txn, std::slice::from_ref(tenant))
            .await?;
        version_info(&row)
    }

    async fn activate_version_if(
        &self,
        tenant: &TenantId,
        version: u32,
        expected_active: u32,
        now: Timestamp,
    ) -> StoreResult<()> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        expect_active(&txn, tenant, expected_active).await?;
        activate_in(&txn, tenant, version).await?;
        self.commit_tenant_write(txn, std::slice::from_ref(tenant))
            .await
    }

    async fn active_version(&self, tenant: &TenantId) -> StoreResult<Option<ConfigVersion>> {
        active_row(self.db(), tenant)
            .await?
            .map(version_from_row)
            .transpose()
    }

    async fn version(&self, tenant: &TenantId, version: u32) -> StoreResult<Option<ConfigVersion>> {
        config_versions::Entity::find_by_id((tenant.as_str().to_owned(), to_i32(version)))
            .one(self.db())
            .await?
            .map(version_from_row)
            .transpose()
    }

    async fn versions(&self, tenant: &TenantId) -> StoreResult<Vec<ConfigVersionInfo>> {
        config_versions::Entity::find()
            .select_only()
            .columns([
                config_versions::Column::TenantId,
                config_versions::Column::Version,
                config_versions::Column::Sha256,
                config_versions::Column::Author,
                config_versions::Column::Comment,
                config_versions::Column::CreatedAt,
                config_versions::Column::IsActive,
            ])
            .column_as(Expr::value(""), "yaml")
            .filter(config_versions::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(config_versions::Column::Version)
            .all(self.db())
            .await?
            .iter()
            .map(version_info)
            .collect()
    }
}

#[async_trait]
impl RouteSource for Store {
    async fn load_route(&self, client: &ClientId) -> StoreResult<Option<RouteRecord>> {
        // One read transaction so the tenant row and its active version are a consistent pair.
        let txn = self.db().begin().await?;
        let Some(link) = client_ids::Entity::find_by_id(client.as_str())
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let tenant = tenant_id("client_ids", &link.tenant_id)?;
        let Some(row) = tenants::Entity::find_by_id(tenant.as_str())
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let status = TenantStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt("tenants", "unknown status"))?;
        let active = active_row(&txn, &tenant)
            .await?
            .map(version_from_row)
            .transpose()?;
        txn.commit().await?;
        Ok(Some(RouteRecord {
            client_id: client.clone(),
            tenant_id: tenant,
            status,
            active,
        }))
    }
}

/// A sealed secret's three columns as a blob (`None` unless all three are set).
fn sealed_blob(
    ciphertext: Option<Vec<u8>>,
    nonce: Option<Vec<u8>>,
    key_id: Option<String>,
) -> Option<EncryptedBlob> {
    Some(EncryptedBlob {
        ciphertext: ciphertext?,
        nonce: nonce?,
        key_id: key_id?,
    })
}
