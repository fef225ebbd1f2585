//! Console sessions (issue 18): a person signs in to `/console` once with a personal admin
//! key and the browser then holds only a session cookie. The row is stored under the
//! SHA-256 of the cookie's 256-bit token (a database read reveals no usable cookie), with
//! the key it was opened with (revoking the key ends it), the SHA-256 of its CSRF token, and
//! the times the idle and absolute timeouts are measured from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `console_sessions`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(string(ConsoleSessions::Id).primary_key())
                    .col(big_integer(ConsoleSessions::ApiKeyId))
                    .col(string(ConsoleSessions::CsrfHash))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::ApiKeyId)
                            .to(ApiKeys::Table, ApiKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_console_sessions_key")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::ApiKeyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum ConsoleSessions {
    Table,
    Id,
    ApiKeyId,
    CsrfHash,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    Id,
}
