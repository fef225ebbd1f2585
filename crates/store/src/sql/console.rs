//! Console sessions.

use async_trait::async_trait;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::at;
use crate::entity::console_sessions;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::ConsoleSessionRepo;
use crate::store::Store;

fn digest(raw: &str) -> StoreResult<Sha256Digest> {
    Sha256Digest::from_hex(raw)
        .ok_or_else(|| StoreError::corrupt("console_sessions", "a digest is not hex"))
}

fn session_from_row(row: console_sessions::Model) -> StoreResult<ConsoleSession> {
    Ok(ConsoleSession {
        id: digest(&row.id)?,
        key_id: ApiKeyId(row.api_key_id),
        csrf_hash: digest(&row.csrf_hash)?,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
    })
}

#[async_trait]
impl ConsoleSessionRepo for Store {
    async fn create_console_session(&self, new: NewConsoleSession) -> StoreResult<()> {
        console_sessions::Entity::insert(console_sessions::ActiveModel {
            id: Set(new.id.to_hex()),
            api_key_id: Set(new.key_id.0),
            csrf_hash: Set(new.csrf_hash.to_hex()),
            created_at: Set(at(new.created_at)),
            last_seen_at: Set(at(new.created_at)),
            expires_at: Set(at(new.expires_at)),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    async fn console_session(&self, id: &Sha256Digest) -> StoreResult<Option<ConsoleSession>> {
        console_sessions::Entity::find_by_id(id.to_hex())
            .one(self.db())
            .await?
            .map(session_from_row)
            .transpose()
    }

    async fn touch_console_session(&self, id: &Sha256Digest, now: Timestamp) -> StoreResult<()> {
        console_sessions::Entity::update_many()
            .col_expr(console_sessions::Column::LastSeenAt, Expr::value(at(now)))
            .filter(console_sessions::Column::Id.eq(id.to_hex()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn end_console_session(&self, id: &Sha256Digest) -> StoreResult<bool> {
        let result = console_sessions::Entity::delete_by_id(id.to_hex())
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn purge_console_sessions(
        &self,
        idle_before: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let result = console_sessions::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(console_sessions::Column::LastSeenAt.lt(at(idle_before)))
                    .add(console_sessions::Column::ExpiresAt.lte(at(now))),
            )
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }
}
