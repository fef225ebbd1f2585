//! Provider bindings as production tenants need them (issues 14 and 15): the Auth0 canonical
//! and custom domains, the app's own application, New Universal Login and an audience
//! override; the Janrain flow version and the API client's `password_recover_url`.
//! Old rows keep their values (every new column is empty or false). A row whose kind lacks a
//! field its provider needs (an Auth0 binding without a connection, a binding without a
//! domain or client id) could never have served a reset: it becomes unbound, so the store
//! only ever reads complete bindings. A Janrain binding without a flow gets `standard`, the
//! flow the client used when none was set.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Adds the binding columns and unbinds half-filled rows.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

const STRING_COLUMNS: [Tenants; 6] = [
    Tenants::ProviderCanonicalDomain,
    Tenants::ProviderCustomDomain,
    Tenants::ProviderAppClientId,
    Tenants::ProviderAudience,
    Tenants::ProviderFlowVersion,
    Tenants::ProviderPasswordRecoverUrl,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in STRING_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(boolean(Tenants::ProviderNewUniversalLogin).default(false))
                    .to_owned(),
            )
            .await?;
        let janrain_flow = Query::update()
            .table(Tenants::Table)
            .value(Tenants::ProviderConnection, "standard")
            .and_where(Expr::col(Tenants::ProviderKind).eq("janrain"))
            .and_where(Expr::col(Tenants::ProviderConnection).is_null())
            .to_owned();
        manager.exec_stmt(janrain_flow).await?;
        let half_filled = Query::update()
            .table(Tenants::Table)
            .value(Tenants::ProviderKind, Option::<String>::None)
            .cond_where(
                Cond::all()
                    .add(Expr::col(Tenants::ProviderKind).is_not_null())
                    .add(
                        Cond::any()
                            .add(Expr::col(Tenants::ProviderKind).is_not_in(["auth0", "janrain"]))
                            .add(Expr::col(Tenants::ProviderDomain).is_null())
                            .add(Expr::col(Tenants::ProviderClientId).is_null())
                            .add(Expr::col(Tenants::ProviderConnection).is_null()),
                    ),
            )
            .to_owned();
        manager.exec_stmt(half_filled).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = STRING_COLUMNS.to_vec();
        columns.push(Tenants::ProviderNewUniversalLogin);
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
    ProviderKind,
    ProviderDomain,
    ProviderConnection,
    ProviderClientId,
    ProviderCanonicalDomain,
    ProviderCustomDomain,
    ProviderAppClientId,
    ProviderNewUniversalLogin,
    ProviderAudience,
    ProviderFlowVersion,
    ProviderPasswordRecoverUrl,
}
