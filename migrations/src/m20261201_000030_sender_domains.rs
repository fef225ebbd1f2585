//! Mail grants (issue 13): which sender domains each tenant's `email.from` may use and which
//! addresses its test emails may go to, set by platform admins only; and the optional hash of
//! an API key holder's own address, the one other place a test email may go.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `tenant_mail_grants` and adds `api_keys.owner_email_hash`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantMailGrants::Table)
                    .col(string(TenantMailGrants::TenantId))
                    .col(string(TenantMailGrants::Kind))
                    .col(string(TenantMailGrants::Value))
                    .col(timestamp_with_time_zone(TenantMailGrants::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TenantMailGrants::TenantId)
                            .col(TenantMailGrants::Kind)
                            .col(TenantMailGrants::Value),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantMailGrants::Table, TenantMailGrants::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(string_null(ApiKeys::OwnerEmailHash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::OwnerEmailHash)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TenantMailGrants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum TenantMailGrants {
    Table,
    TenantId,
    Kind,
    Value,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    OwnerEmailHash,
}
