//! Reset tokens: stored as hashes, consumed by one conditional UPDATE.

use async_trait::async_trait;
use passgate_tenant::{ClientId, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{at, client_id, count_u32, tenant_id, to_i32};
use crate::entity::reset_tokens::{self, Column};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::TokenRepo;
use crate::store::Store;

const TABLE: &str = "reset_tokens";

fn token_from_row(row: reset_tokens::Model) -> StoreResult<ResetToken> {
    Ok(ResetToken {
        id: TokenId(row.id),
        hash: Sha256Digest::from_hex(&row.token_hash)
            .ok_or_else(|| StoreError::corrupt(TABLE, "token hash is not hex"))?,
        tenant_id: tenant_id(TABLE, &row.tenant_id)?,
        client_id: client_id(TABLE, &row.client_id)?,
        user_id: row.user_id,
        connection: row.connection,
        email: row.email,
        last_password_reset: row.last_password_reset,
        purpose: TokenPurpose::parse(&row.purpose)
            .ok_or_else(|| StoreError::corrupt(TABLE, "unknown purpose"))?,
        locale: row.locale,
        redirect_uri: row.redirect_uri,
        created_at: row.created_at,
        expires_at: row.expires_at,
        consumed_at: row.consumed_at,
        attempts: count_u32(row.attempts),
        invalidated_at: row.invalidated_at,
    })
}

/// Why a token that the conditional UPDATE did not take is unusable.
fn rejection(token: Option<&ResetToken>, now: Timestamp) -> TokenRejection {
    match token {
        None => TokenRejection::Unknown,
        Some(t) if t.consumed_at.is_some() => TokenRejection::AlreadyConsumed,
        Some(t) if t.invalidated_at.is_some() => TokenRejection::Invalidated,
        Some(t) if t.expires_at <= now => TokenRejection::Expired,
        // Usable a moment ago, so another caller consumed it in between.
        Some(_) => TokenRejection::AlreadyConsumed,
    }
}

/// The row to insert for `new`.
pub(super) fn token_row(new: NewResetToken) -> reset_tokens::ActiveModel {
    reset_tokens::ActiveModel {
        token_hash: Set(new.hash.to_hex()),
        tenant_id: Set(new.tenant_id.as_str().to_owned()),
        client_id: Set(new.client_id.as_str().to_owned()),
        user_id: Set(new.user_id),
        connection: Set(new.connection),
        email: Set(new.email),
        last_password_reset: Set(new.last_password_reset),
        purpose: Set(new.purpose.as_str().to_owned()),
        locale: Set(new.locale),
        redirect_uri: Set(new.redirect_uri),
        created_at: Set(at(new.created_at)),
        expires_at: Set(at(new.expires_at)),
        consumed_at: Set(None),
        attempts: Set(0),
        invalidated_at: Set(None),
        ..Default::default()
    }
}

/// Invalidates every unused row of `user_id` for `client` on `conn` (the pool, or a
/// transaction); returns how many.
pub(super) async fn invalidate_on(
    conn: &impl ConnectionTrait,
    tenant: &TenantId,
    client: &ClientId,
    user_id: &str,
    now: Timestamp,
) -> StoreResult<u64> {
    let result = reset_tokens::Entity::update_many()
        .col_expr(Column::InvalidatedAt, Expr::value(at(now)))
        .filter(Column::TenantId.eq(tenant.as_str()))
        .filter(Column::ClientId.eq(client.as_str()))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ConsumedAt.is_null())
        .filter(Column::InvalidatedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

#[async_trait]
impl TokenRepo for Store {
    async fn insert_token(&self, new: NewResetToken) -> StoreResult<TokenId> {
        let row = token_row(new).insert(self.db()).await?;
        Ok(TokenId(row.id))
    }

    async fn find_token(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
    ) -> StoreResult<Option<ResetToken>> {
        reset_tokens::Entity::find()
            .filter(Column::TokenHash.eq(hash.to_hex()))
            .filter(Column::TenantId.eq(tenant.as_str()))
            .one(self.db())
            .await?
            .map(token_from_row)
            .transpose()
    }

    async fn lookup_token(&self, hash: &Sha256Digest) -> StoreResult<Option<ResetToken>> {
        reset_tokens::Entity::find()
            .filter(Column::TokenHash.eq(hash.to_hex()))
            .one(self.db())
            .await?
            .map(token_from_row)
            .transpose()
    }

    async fn consume_token(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
        now: Timestamp,
    ) -> StoreResult<ResetToken> {
        let now = at(now);
        let taken = reset_tokens::Entity::update_many()
            .col_expr(Column::ConsumedAt, Expr::value(now))
            .filter(Column::TokenHash.eq(hash.to_hex()))
            .filter(Column::TenantId.eq(tenant.as_str()))
            .filter(Column::ConsumedAt.is_null())
            .filter(Column::InvalidatedAt.is_null())
            .filter(Column::ExpiresAt.gt(now))
            .exec_with_returning(self.db())
            .await?;
        match taken.into_iter().next() {
            Some(row) => token_from_row(row),
            None => {
                let current = self.find_token(tenant, hash).await?;
                Err(StoreError::Token(rejection(current.as_ref(), now)))
            }
        }
    }

    async fn invalidate_user_tokens(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        user_id: &str,
        now: Timestamp,
    ) -> StoreResult<u64> {
        invalidate_on(self.db(), tenant, client, user_id, now).await
    }

    async fn release_token(&self, tenant: &TenantId, id: TokenId) -> StoreResult<bool> {
        let result = reset_tokens::Entity::update_many()
            .col_expr(Column::ConsumedAt, Expr::value(Option::<Timestamp>::None))
            .filter(Column::Id.eq(id.0))
            .filter(Column::TenantId.eq(tenant.as_str()))
            .filter(Column::ConsumedAt.is_not_null())
            .filter(Column::InvalidatedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn record_failed_attempt(
        &self,
        tenant: &TenantId,
        hash: &Sha256Digest,
        max_attempts: u32,
        now: Timestamp,
    ) -> StoreResult<u32> {
        let rows = reset_tokens::Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::TokenHash.eq(hash.to_hex()))
            .filter(Column::TenantId.eq(tenant.as_str()))
            .exec_with_returning(self.db())
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Err(StoreError::Token(TokenRejection::Unknown));
        };
        if row.attempts >= to_i32(max_attempts) {
            reset_tokens::Entity::update_many()
                .col_expr(Column::InvalidatedAt, Expr::value(at(now)))
                .filter(Column::Id.eq(row.id))
                .filter(Column::InvalidatedAt.is_null())
                .exec(self.db())
                .await?;
        }
        Ok(count_u32(row.attempts))
    }

    async fn purge_tokens(&self, before: Timestamp) -> StoreResult<u64> {
        let result = reset_tokens::Entity::delete_many()
            .filter(Column::ExpiresAt.lt(at(before)))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }
}
