//! The store's one error type.

use passgate_tenant::{ClientId, TenantId};

use crate::model::TokenRejection;

/// Why a store operation failed. Verdicts a caller acts on (duplicate client id, unusable
/// token, unknown tenant) are their own variants; everything else is [`StoreError::Database`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed the operation.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The client id is already registered, possibly to another tenant (client ids are unique
    /// across all tenants, because a request names its tenant by client id alone).
    #[error("client id {client_id} is already registered to tenant {owner}")]
    DuplicateClientId {
        /// The refused client id.
        client_id: ClientId,
        /// The tenant that has it.
        owner: TenantId,
    },
    /// A tenant with this id already exists.
    #[error("tenant {0} already exists")]
    TenantExists(TenantId),
    /// No tenant with this id.
    #[error("unknown tenant {0}")]
    UnknownTenant(TenantId),
    /// The tenant has no such config version.
    #[error("tenant {tenant} has no config version {version}")]
    UnknownVersion {
        /// The tenant.
        tenant: TenantId,
        /// The missing version.
        version: u32,
    },
    /// Another version became active since the caller read it (a conditional config write
    /// lost the race).
    #[error("tenant {tenant} has version {active} active, not the expected one")]
    VersionConflict {
        /// The tenant.
        tenant: TenantId,
        /// The version active now (0: none).
        active: u32,
    },
    /// A row with this id does not exist (or belongs to another tenant).
    #[error("no such {what}")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// The token cannot be used.
    #[error("token refused: {0}")]
    Token(#[from] TokenRejection),
    /// A stored value does not parse (a row written by something other than this store).
    #[error("corrupt {table} row: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong (no row contents).
        detail: String,
    },
}

impl StoreError {
    /// A corrupt-row error.
    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> Self {
        Self::Corrupt {
            table,
            detail: detail.into(),
        }
    }

    /// Whether a database error is a unique-constraint violation.
    pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
        matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        )
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;
