//! Janrain codes Passgate redeemed: bound to one tenant, spent once for every replica.

use async_trait::async_trait;
use passgate_tenant::TenantId;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TryInsertResult};

use super::{at, tenant_id};
use crate::entity::janrain_codes::{self, Column};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::JanrainCodeRepo;
use crate::store::Store;

const TABLE: &str = "janrain_codes";
const AUTHORIZED: &str = "authorized";
const SPENT: &str = "spent";

fn code_from_row(row: janrain_codes::Model) -> StoreResult<JanrainCode> {
    let state = match (
        row.state.as_str(),
        row.authorization_ciphertext,
        row.authorization_nonce,
        row.key_id,
    ) {
        (AUTHORIZED, Some(ciphertext), Some(nonce), Some(key_id)) => JanrainCodeState::Authorized {
            authorization: EncryptedBlob {
                ciphertext,
                nonce,
                key_id,
            },
            expires_at: row.expires_at,
        },
        (SPENT, ..) => JanrainCodeState::Spent,
        _ => return Err(StoreError::corrupt(TABLE, "unknown state")),
    };
    Ok(JanrainCode {
        digest: Sha256Digest::from_hex(&row.code_digest)
            .ok_or_else(|| StoreError::corrupt(TABLE, "code digest is not hex"))?,
        tenant_id: tenant_id(TABLE, &row.tenant_id)?,
        state,
        created_at: row.created_at,
    })
}

#[async_trait]
impl JanrainCodeRepo for Store {
    async fn janrain_code(&self, digest: &Sha256Digest) -> StoreResult<Option<JanrainCode>> {
        janrain_codes::Entity::find_by_id(digest.to_hex())
            .one(self.db())
            .await?
            .map(code_from_row)
            .transpose()
    }

    async fn insert_janrain_code(&self, code: JanrainCode) -> StoreResult<bool> {
        let (state, blob, expires_at) = match code.state {
            JanrainCodeState::Authorized {
                authorization,
                expires_at,
            } => (AUTHORIZED, Some(authorization), expires_at),
            JanrainCodeState::Spent => (SPENT, None, code.created_at),
        };
        let row = janrain_codes::ActiveModel {
            code_digest: Set(code.digest.to_hex()),
            tenant_id: Set(code.tenant_id.as_str().to_owned()),
            state: Set(state.to_owned()),
            authorization_ciphertext: Set(blob.as_ref().map(|b| b.ciphertext.clone())),
            authorization_nonce: Set(blob.as_ref().map(|b| b.nonce.clone())),
            key_id: Set(blob.map(|b| b.key_id)),
            expires_at: Set(at(expires_at)),
            created_at: Set(at(code.created_at)),
        };
        let result = janrain_codes::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(self.db())
            .await?;
        Ok(matches!(result, TryInsertResult::Inserted(1)))
    }

    async fn spend_janrain_code(
        &self,
        tenant: &TenantId,
        digest: &Sha256Digest,
    ) -> StoreResult<bool> {
        let result = janrain_codes::Entity::update_many()
            .col_expr(Column::State, Expr::value(SPENT))
            .col_expr(
                Column::AuthorizationCiphertext,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(
                Column::AuthorizationNonce,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(Column::KeyId, Expr::value(Option::<String>::None))
            .filter(Column::CodeDigest.eq(digest.to_hex()))
            .filter(Column::TenantId.eq(tenant.as_str()))
            .filter(Column::State.ne(SPENT))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn purge_janrain_codes(&self, before: Timestamp) -> StoreResult<u64> {
        let result = janrain_codes::Entity::delete_many()
            .filter(Column::ExpiresAt.lt(at(before)))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }
}
