//! The first schema. Every row that belongs to a tenant carries `tenant_id` with a foreign key
//! (cascading deletes, so removing a tenant removes its tokens, mail and history), except the
//! audit log, which must outlive the tenants it talks about.
//!
//! Timestamps are `timestamp with time zone` (text in SQLite, compared in one fixed format);
//! hashes are lowercase hex SHA-256 digests; secrets at rest are ciphertext + nonce + key id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates every table of the first release.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(string(Tenants::Id).primary_key())
                    .col(string(Tenants::DisplayName))
                    .col(string(Tenants::Status))
                    .col(string_null(Tenants::ProviderKind))
                    .col(string_null(Tenants::ProviderDomain))
                    .col(string_null(Tenants::ProviderConnection))
                    .col(string_null(Tenants::ProviderMode))
                    .col(string_null(Tenants::ProviderClientId))
                    .col(blob_null(Tenants::ProviderSecretCiphertext))
                    .col(blob_null(Tenants::ProviderSecretNonce))
                    .col(string_null(Tenants::ProviderSecretKeyId))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientIds::Table)
                    .col(string(ClientIds::ClientId).primary_key())
                    .col(string(ClientIds::TenantId))
                    .col(timestamp_with_time_zone(ClientIds::CreatedAt))
                    .foreign_key(&mut tenant_fk(ClientIds::Table, ClientIds::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_client_ids_tenant",
            ClientIds::Table,
            &[ClientIds::TenantId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TenantConfigVersions::Table)
                    .col(string(TenantConfigVersions::TenantId))
                    .col(integer(TenantConfigVersions::Version))
                    .col(text(TenantConfigVersions::Yaml))
                    .col(string(TenantConfigVersions::Sha256))
                    .col(string(TenantConfigVersions::Author))
                    .col(text_null(TenantConfigVersions::Comment))
                    .col(timestamp_with_time_zone(TenantConfigVersions::CreatedAt))
                    .col(boolean(TenantConfigVersions::IsActive))
                    .primary_key(
                        Index::create()
                            .col(TenantConfigVersions::TenantId)
                            .col(TenantConfigVersions::Version),
                    )
                    .foreign_key(&mut tenant_fk(
                        TenantConfigVersions::Table,
                        TenantConfigVersions::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Exactly one active version per tenant, enforced by the database itself; the partial
        // index syntax is the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_tenant_config_versions_active \
                 ON tenant_config_versions (tenant_id) WHERE is_active",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ResetTokens::Table)
                    .col(big_pk_auto(ResetTokens::Id))
                    .col(string_uniq(ResetTokens::TokenHash))
                    .col(string(ResetTokens::TenantId))
                    .col(string(ResetTokens::ClientId))
                    .col(string(ResetTokens::UserId))
                    .col(string_null(ResetTokens::Connection))
                    .col(string(ResetTokens::Email))
                    .col(string_null(ResetTokens::LastPasswordReset))
                    .col(string(ResetTokens::Purpose))
                    .col(string(ResetTokens::Locale))
                    .col(text_null(ResetTokens::RedirectUri))
                    .col(timestamp_with_time_zone(ResetTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ResetTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ResetTokens::ConsumedAt))
                    .col(integer(ResetTokens::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(ResetTokens::InvalidatedAt))
                    .foreign_key(&mut tenant_fk(ResetTokens::Table, ResetTokens::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_reset_tokens_user",
            ResetTokens::Table,
            &[
                ResetTokens::TenantId,
                ResetTokens::UserId,
                ResetTokens::ClientId,
            ],
        )
        .await?;
        index(
            manager,
            "ix_reset_tokens_expiry",
            ResetTokens::Table,
            &[ResetTokens::ExpiresAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(big_pk_auto(MailOutbox::Id))
                    .col(string(MailOutbox::TenantId))
                    .col(string_uniq(MailOutbox::MessageId))
                    .col(string(MailOutbox::Recipient))
                    .col(blob(MailOutbox::BodyCiphertext))
                    .col(blob(MailOutbox::BodyNonce))
                    .col(string(MailOutbox::KeyId))
                    .col(string(MailOutbox::Status))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                    .col(text_null(MailOutbox::LastError))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .foreign_key(&mut tenant_fk(MailOutbox::Table, MailOutbox::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_mail_outbox_due",
            MailOutbox::Table,
            &[MailOutbox::Status, MailOutbox::NextAttemptAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ResetJobs::Table)
                    .col(big_pk_auto(ResetJobs::Id))
                    .col(string(ResetJobs::TenantId))
                    .col(string(ResetJobs::ClientId))
                    .col(string(ResetJobs::Kind))
                    .col(text(ResetJobs::Payload))
                    .col(string(ResetJobs::Status))
                    .col(integer(ResetJobs::Attempts).default(0))
                    .col(timestamp_with_time_zone(ResetJobs::RunAfter))
                    .col(timestamp_with_time_zone_null(ResetJobs::LockedUntil))
                    .col(text_null(ResetJobs::LastError))
                    .col(timestamp_with_time_zone(ResetJobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(ResetJobs::FinishedAt))
                    .foreign_key(&mut tenant_fk(ResetJobs::Table, ResetJobs::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_reset_jobs_due",
            ResetJobs::Table,
            &[ResetJobs::Status, ResetJobs::RunAfter],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordHistory::Table)
                    .col(big_pk_auto(PasswordHistory::Id))
                    .col(string(PasswordHistory::TenantId))
                    .col(string(PasswordHistory::UserId))
                    .col(text(PasswordHistory::Hash))
                    .col(timestamp_with_time_zone(PasswordHistory::CreatedAt))
                    .foreign_key(&mut tenant_fk(
                        PasswordHistory::Table,
                        PasswordHistory::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_password_history_user",
            PasswordHistory::Table,
            &[PasswordHistory::TenantId, PasswordHistory::UserId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RateLimitWindows::Table)
                    .col(string(RateLimitWindows::BucketKey))
                    .col(timestamp_with_time_zone(RateLimitWindows::WindowStart))
                    .col(string_null(RateLimitWindows::TenantId))
                    .col(big_integer(RateLimitWindows::Count))
                    .col(timestamp_with_time_zone(RateLimitWindows::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .col(RateLimitWindows::BucketKey)
                            .col(RateLimitWindows::WindowStart),
                    )
                    .foreign_key(&mut tenant_fk(
                        RateLimitWindows::Table,
                        RateLimitWindows::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_rate_limit_windows_expiry",
            RateLimitWindows::Table,
            &[RateLimitWindows::ExpiresAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(string(ApiKeys::Prefix))
                    .col(string(ApiKeys::Role))
                    .col(text(ApiKeys::TenantScopes))
                    .col(string(ApiKeys::Label))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(string_null(AuditEvents::TenantId))
                    .col(string(AuditEvents::Actor))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::Outcome))
                    .col(string_null(AuditEvents::RequestId))
                    .col(string_null(AuditEvents::ClientId))
                    .col(text(AuditEvents::Details))
                    .col(timestamp_with_time_zone(AuditEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_audit_events_tenant",
            AuditEvents::Table,
            &[AuditEvents::TenantId, AuditEvents::Id],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            RateLimitWindows::Table.into_iden(),
            PasswordHistory::Table.into_iden(),
            ResetJobs::Table.into_iden(),
            MailOutbox::Table.into_iden(),
            ResetTokens::Table.into_iden(),
            TenantConfigVersions::Table.into_iden(),
            ClientIds::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A foreign key from `table.column` to `tenants.id` that deletes the row with its tenant.
fn tenant_fk<T, C>(table: T, column: C) -> ForeignKeyCreateStatement
where
    T: IntoIden + Clone + 'static,
    C: IntoIden + 'static,
{
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Creates a plain (non-unique) index.
async fn index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden + Clone + 'static,
    C: IntoIden + Clone + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col.clone());
    }
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone)]
enum Tenants {
    Table,
    Id,
    DisplayName,
    Status,
    ProviderKind,
    ProviderDomain,
    ProviderConnection,
    ProviderMode,
    ProviderClientId,
    ProviderSecretCiphertext,
    ProviderSecretNonce,
    ProviderSecretKeyId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum ClientIds {
    Table,
    ClientId,
    TenantId,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum TenantConfigVersions {
    Table,
    TenantId,
    Version,
    Yaml,
    Sha256,
    Author,
    Comment,
    CreatedAt,
    IsActive,
}

#[derive(DeriveIden, Clone)]
enum ResetTokens {
    Table,
    Id,
    TokenHash,
    TenantId,
    ClientId,
    UserId,
    Connection,
    Email,
    LastPasswordReset,
    Purpose,
    Locale,
    RedirectUri,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
    Attempts,
    InvalidatedAt,
}

#[derive(DeriveIden, Clone)]
enum MailOutbox {
    Table,
    Id,
    TenantId,
    MessageId,
    Recipient,
    BodyCiphertext,
    BodyNonce,
    KeyId,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden, Clone)]
enum ResetJobs {
    Table,
    Id,
    TenantId,
    ClientId,
    Kind,
    Payload,
    Status,
    Attempts,
    RunAfter,
    LockedUntil,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone)]
enum PasswordHistory {
    Table,
    Id,
    TenantId,
    UserId,
    Hash,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum RateLimitWindows {
    Table,
    BucketKey,
    WindowStart,
    TenantId,
    Count,
    ExpiresAt,
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    Id,
    KeyHash,
    Prefix,
    Role,
    TenantScopes,
    Label,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone)]
enum AuditEvents {
    Table,
    Id,
    TenantId,
    Actor,
    Action,
    Outcome,
    RequestId,
    ClientId,
    Details,
    CreatedAt,
}
