//! Automatic persisted queries (Apollo's protocol): a client sends a document's SHA-256 in
//! place of its text once the server knows it. Kept in the database so that every replica can
//! answer a hash that any replica registered.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersistedQueries::Table)
                    .col(
                        ColumnDef::new(PersistedQueries::Sha256)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PersistedQueries::Query).text().not_null())
                    .col(
                        ColumnDef::new(PersistedQueries::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersistedQueries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PersistedQueries {
    Table,
    Sha256,
    Query,
    CreatedAt,
}
