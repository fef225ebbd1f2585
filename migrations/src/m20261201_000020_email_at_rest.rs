//! No email address in clear at rest (security.md items 53 and 55), and Janrain codes shared
//! by every replica.
//!
//! - `reset_tokens.email` now holds the engine's sealed form (AES-256-GCM, bound to the
//!   row). Rows written before this step held the address in clear; a migration has no key
//!   to seal them, so it blanks them: links issued before the upgrade (at most one token
//!   lifetime old) then open as "invalid link" and the user asks again.
//! - `mail_outbox.recipient` now holds a keyed digest; the address itself is only inside the
//!   sealed body. Rows written before are blanked (nothing reads the column to send).
//! - `janrain_codes`: a keyed digest of each Janrain code Passgate redeemed, the tenant it
//!   was redeemed for, its state (`authorized` with the sealed access token, or `spent`).
//!
//! SQLite may keep overwritten bytes in free pages until `VACUUM`; docs/operations.md says
//! to run it once after this upgrade.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Seals what was clear and adds the Janrain code table.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::update()
                    .table(ResetTokens::Table)
                    .value(ResetTokens::Email, "")
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(MailOutbox::Table)
                    .value(MailOutbox::Recipient, "")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JanrainCodes::Table)
                    .col(string(JanrainCodes::CodeDigest).primary_key())
                    .col(string(JanrainCodes::TenantId))
                    .col(string(JanrainCodes::State))
                    .col(blob_null(JanrainCodes::AuthorizationCiphertext))
                    .col(blob_null(JanrainCodes::AuthorizationNonce))
                    .col(string_null(JanrainCodes::KeyId))
                    .col(timestamp_with_time_zone(JanrainCodes::ExpiresAt))
                    .col(timestamp_with_time_zone(JanrainCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JanrainCodes::Table, JanrainCodes::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_janrain_codes_expiry")
                    .table(JanrainCodes::Table)
                    .col(JanrainCodes::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JanrainCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ResetTokens {
    Table,
    Email,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Recipient,
}

#[derive(DeriveIden)]
enum JanrainCodes {
    Table,
    CodeDigest,
    TenantId,
    State,
    AuthorizationCiphertext,
    AuthorizationNonce,
    KeyId,
    ExpiresAt,
    CreatedAt,
}
