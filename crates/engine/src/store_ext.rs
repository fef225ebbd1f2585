//! Storage operations the engine needs beyond the store's repository traits.
//!
//! [`TokenRelease::release_token`] gives a consumed row back after a *definite* provider
//! failure (a policy rejection or an outage where nothing was applied), so the user can retry
//! with the same link. It is a conditional update that only touches a row that is still
//! consumed and not invalidated; an ambiguous outcome never releases.

use async_trait::async_trait;
use passgate_store::{Backend, ResetToken, Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Un-consumes a token row.
#[async_trait]
pub(crate) trait TokenRelease {
    /// Makes a consumed, not invalidated row usable again; `true` if it was.
    async fn release_token(&self, token: &ResetToken) -> Result<bool, StoreError>;
}

#[async_trait]
impl TokenRelease for Store {
    async fn release_token(&self, token: &ResetToken) -> Result<bool, StoreError> {
        let (backend, sql) = match self.backend() {
            Backend::Sqlite => (
                DbBackend::Sqlite,
                "UPDATE reset_tokens SET consumed_at = NULL \
                 WHERE id = ? AND tenant_id = ? AND consumed_at IS NOT NULL AND invalidated_at IS NULL",
            ),
            Backend::Postgres => (
                DbBackend::Postgres,
                "UPDATE reset_tokens SET consumed_at = NULL \
                 WHERE id = $1 AND tenant_id = $2 AND consumed_at IS NOT NULL AND invalidated_at IS NULL",
            ),
        };
        let result = self
            .connection()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [token.id.0.into(), token.tenant_id.as_str().into()],
            ))
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
