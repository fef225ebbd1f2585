//! API keys and the audit log.

use async_trait::async_trait;
use passgate_tenant::TenantId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::{at, client_id, tenant_id};
use crate::entity::{api_keys, audit_events, console_sessions};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::{ApiKeyRepo, AuditRepo};
use crate::store::Store;

/// The row to append for `event`.
pub(super) fn audit_row(event: NewAuditEvent) -> audit_events::ActiveModel {
    audit_events::ActiveModel {
        tenant_id: Set(event.tenant_id.as_ref().map(|t| t.as_str().to_owned())),
        actor: Set(event.actor),
        action: Set(event.action),
        outcome: Set(event.outcome),
        request_id: Set(event.request_id),
        client_id: Set(event.client_id.as_ref().map(|c| c.as_str().to_owned())),
        details: Set(event.details.to_string()),
        created_at: Set(at(event.created_at)),
        ..Default::default()
    }
}

fn key_from_row(row: api_keys::Model) -> StoreResult<ApiKey> {
    let scopes: Vec<String> = serde_json::from_str(&row.tenant_scopes)
        .map_err(|_| StoreError::corrupt("api_keys", "tenant scopes are not a JSON list"))?;
    Ok(ApiKey {
        id: ApiKeyId(row.id),
        prefix: row.prefix,
        role: ApiRole::parse(&row.role)
            .ok_or_else(|| StoreError::corrupt("api_keys", "unknown role"))?,
        tenants: scopes
            .iter()
            .map(|t| tenant_id("api_keys", t))
            .collect::<StoreResult<_>>()?,
        label: row.label,
        owner_email_hash: row
            .owner_email_hash
            .as_deref()
            .map(|h| {
                Sha256Digest::from_hex(h)
                    .ok_or_else(|| StoreError::corrupt("api_keys", "owner email hash is not hex"))
            })
            .transpose()?,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
        oidc_subject: row.oidc_subject,
    })
}

fn event_from_row(row: audit_events::Model) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: AuditId(row.id),
        event: NewAuditEvent {
            tenant_id: row
                .tenant_id
                .as_deref()
                .map(|t| tenant_id("audit_events", t))
                .transpose()?,
            actor: row.actor,
            action: row.action,
            outcome: row.outcome,
            request_id: row.request_id,
            client_id: row
                .client_id
                .as_deref()
                .map(|c| client_id("audit_events", c))
                .transpose()?,
            details: serde_json::from_str(&row.details)
                .map_err(|_| StoreError::corrupt("audit_events", "details are not JSON"))?,
            created_at: row.created_at,
        },
    })
}

#[async_trait]
impl ApiKeyRepo for Store {
    async fn create_api_key(&self, new: NewApiKey) -> StoreResult<ApiKeyId> {
        let scopes: Vec<&str> = new.tenants.iter().map(TenantId::as_str).collect();
        let scopes = serde_json::to_string(&scopes)
            .map_err(|_| StoreError::corrupt("api_keys", "tenant scopes"))?;
        let result = api_keys::Entity::insert(api_keys::ActiveModel {
            key_hash: Set(new.key_hash.to_hex()),
            prefix: Set(new.prefix),
            role: Set(new.role.as_str().to_owned()),
            tenant_scopes: Set(scopes),
            label: Set(new.label),
            owner_email_hash: Set(new.owner_email_hash.map(|h| h.to_hex())),
            created_at: Set(at(new.created_at)),
            last_used_at: Set(None),
            revoked_at: Set(None),
            oidc_subject: Set(None),
            ..Default::default()
        })
        .exec(self.db())
        .await?;
        Ok(ApiKeyId(result.last_insert_id))
    }

    async fn api_key_by_hash(&self, hash: &Sha256Digest) -> StoreResult<Option<ApiKey>> {
        api_keys::Entity::find()
            .filter(api_keys::Column::KeyHash.eq(hash.to_hex()))
            .one(self.db())
            .await?
            .map(key_from_row)
            .transpose()
    }

    async fn api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        api_keys::Entity::find_by_id(id.0)
            .one(self.db())
            .await?
            .map(key_from_row)
            .transpose()
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        api_keys::Entity::find()
            .order_by_asc(api_keys::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<bool> {
        let txn = self.db().begin().await?;
        let result = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(at(now)))
            .filter(api_keys::Column::Id.eq(id.0))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        // A revoked key ends every console session opened with it.
        console_sessions::Entity::delete_many()
            .filter(console_sessions::Column::ApiKeyId.eq(id.0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(result.rows_affected == 1)
    }

    async fn sign_in_oidc_identity(&self, identity: OidcIdentity) -> StoreResult<ApiKey> {
        let scopes: Vec<&str> = identity.tenants.iter().map(TenantId::as_str).collect();
        let scopes = serde_json::to_string(&scopes)
            .map_err(|_| StoreError::corrupt("api_keys", "tenant scopes"))?;
        let txn = self.db().begin().await?;
        let existing = api_keys::Entity::find()
            .filter(api_keys::Column::OidcSubject.eq(identity.subject.as_str()))
            .one(&txn)
            .await?;
        let id = match existing {
            // Revoked in Passgate stays revoked, whatever the provider says.
            Some(row) if row.revoked_at.is_some() => return key_from_row(row),
            Some(row) => {
                api_keys::Entity::update_many()
                    .col_expr(api_keys::Column::Role, Expr::value(identity.role.as_str()))
                    .col_expr(api_keys::Column::TenantScopes, Expr::value(scopes))
                    .col_expr(api_keys::Column::Label, Expr::value(identity.label))
                    .filter(api_keys::Column::Id.eq(row.id))
                    .exec(&txn)
                    .await?;
                row.id
            }
            None => {
                api_keys::Entity::insert(api_keys::ActiveModel {
                    key_hash: Set(identity.unusable_key_hash.to_hex()),
                    prefix: Set(identity.prefix),
                    role: Set(identity.role.as_str().to_owned()),
                    tenant_scopes: Set(scopes),
                    label: Set(identity.label),
                    owner_email_hash: Set(None),
                    created_at: Set(at(identity.now)),
                    last_used_at: Set(None),
                    revoked_at: Set(None),
                    oidc_subject: Set(Some(identity.subject)),
                    ..Default::default()
                })
                .exec(&txn)
                .await?
                .last_insert_id
            }
        };
        let row = api_keys::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::corrupt("api_keys", "identity vanished"))?;
        txn.commit().await?;
        key_from_row(row)
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<()> {
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(at(now)))
            .filter(api_keys::Column::Id.eq(id.0))
            .exec(self.db())
            .await?;
        Ok(())
    }
}

#[async_trait]
impl AuditRepo for Store {
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditId> {
        let result = audit_events::Entity::insert(audit_row(event))
            .exec(self.db())
            .await?;
        Ok(AuditId(result.last_insert_id))
    }

    async fn tenant_audit(
        &self,
        tenant: &TenantId,
        limit: u32,
        before: Option<AuditId>,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut query =
            audit_events::Entity::find().filter(audit_events::Column::TenantId.eq(tenant.as_str()));
        if let Some(before) = before {
            query = query.filter(audit_events::Column::Id.lt(before.0));
        }
        query
            .order_by_desc(audit_events::Column::Id)
            .limit(u64::from(limit))
            .all(self.db())
            .await?
            .into_iter()
            .map(event_from_row)
            .collect()
    }

    async fn all_audit(&self, limit: u32, before: Option<AuditId>) -> StoreResult<Vec<AuditEvent>> {
        let mut query = audit_events::Entity::find();
        if let Some(before) = before {
            query = query.filter(audit_events::Column::Id.lt(before.0));
        }
        query
            .order_by_desc(audit_events::Column::Id)
            .limit(u64::from(limit))
            .all(self.db())
            .await?
            .into_iter()
            .map(event_from_row)
            .collect()
    }
}
