//! A tenant moving from Janrain to Auth0 (issue 19): beside its Auth0 binding, the Janrain
//! Capture app the accounts not yet moved live in (domain, the server-side API client and its
//! sealed secret) and the move's policy. Every column is empty or false: no tenant is moving
//! until a platform admin says so.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds the move's columns to `tenants`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

const STRING_COLUMNS: [Tenants; 3] = [
    Tenants::MoveSourceDomain,
    Tenants::MoveSourceClientId,
    Tenants::MoveSecretKeyId,
];
const BLOB_COLUMNS: [Tenants; 2] = [Tenants::MoveSecretCiphertext, Tenants::MoveSecretNonce];
const FLAG_COLUMNS: [Tenants; 3] = [
    Tenants::MoveResetSourceToo,
    Tenants::MoveMigrateOnReset,
    Tenants::MoveDryRun,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = STRING_COLUMNS
            .into_iter()
            .map(string_null)
            .chain(BLOB_COLUMNS.into_iter().map(blob_null))
            .chain(
                FLAG_COLUMNS
                    .into_iter()
                    .map(|c| boolean(c).default(false).to_owned()),
            );
        for column in columns {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = STRING_COLUMNS
            .into_iter()
            .chain(BLOB_COLUMNS)
            .chain(FLAG_COLUMNS);
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    MoveSourceDomain,
    MoveSourceClientId,
    MoveSecretCiphertext,
    MoveSecretNonce,
    MoveSecretKeyId,
    MoveResetSourceToo,
    MoveMigrateOnReset,
    MoveDryRun,
}
