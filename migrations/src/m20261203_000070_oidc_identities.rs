//! People who sign in to the console through the company's OpenID Connect provider
//! (issue 18): each is an `api_keys` row with the provider's subject (`issuer` + `sub`),
//! so sessions, budgets, revocation and audit work as for a personal key. Such a row's key
//! hash is of random bytes nobody was given: it authenticates no bearer request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds `api_keys.oidc_subject` (unique when set).
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(string_null(ApiKeys::OidcSubject))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_oidc_subject")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::OidcSubject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_api_keys_oidc_subject")
                    .table(ApiKeys::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::OidcSubject)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum ApiKeys {
    Table,
    OidcSubject,
}
