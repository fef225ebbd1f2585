//! Mail grants: each tenant's sender domains and test-email recipients, one row per value.

use async_trait::async_trait;
use passgate_tenant::TenantId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::at;
use super::registry::touch_tenant;
use crate::entity::mail_grants;
use crate::error::StoreResult;
use crate::model::*;
use crate::repo::MailGrantRepo;
use crate::store::Store;

/// Inserts `values` for the tenant, leaving rows that already exist as they are.
pub(super) async fn insert_missing<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    kind: MailGrant,
    values: &[String],
    now: Timestamp,
) -> StoreResult<()> {
    use mail_grants::Column as C;
    if values.is_empty() {
        return Ok(());
    }
    let rows = values.iter().map(|value| mail_grants::ActiveModel {
        tenant_id: Set(tenant.as_str().to_owned()),
        kind: Set(kind.as_str().to_owned()),
        value: Set(value.clone()),
        created_at: Set(at(now)),
    });
    mail_grants::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::Kind, C::Value])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[async_trait]
impl MailGrantRepo for Store {
    async fn mail_grants(&self, tenant: &TenantId, kind: MailGrant) -> StoreResult<Vec<String>> {
        use mail_grants::Column as C;
        Ok(mail_grants::Entity::find()
            .filter(C::TenantId.eq(tenant.as_str()))
            .filter(C::Kind.eq(kind.as_str()))
            .order_by_asc(C::Value)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.value)
            .collect())
    }

    async fn set_mail_grants(
        &self,
        tenant: &TenantId,
        kind: MailGrant,
        values: &[String],
        now: Timestamp,
    ) -> StoreResult<()> {
        use mail_grants::Column as C;
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        mail_grants::Entity::delete_many()
            .filter(C::TenantId.eq(tenant.as_str()))
            .filter(C::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
        insert_missing(&txn, tenant, kind, values, now).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn add_mail_grants(
        &self,
        tenant: &TenantId,
        kind: MailGrant,
        values: &[String],
        now: Timestamp,
    ) -> StoreResult<()> {
        let txn = self.begin_write().await?;
        touch_tenant(&txn, tenant, now).await?;
        insert_missing(&txn, tenant, kind, values, now).await?;
        txn.commit().await?;
        Ok(())
    }
}
