//! The conflict matcher's blocking keys (`deals::matching::blocking_keys`): each active
//! registration's and each account's keys, looked up by key. The primary key `(key, id)`
//! is both the lookup index and what keeps a key from being written twice when two
//! replicas index the same row.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, index, reference};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        keys_table(
            manager,
            "registration_keys",
            "registration_id",
            "deal_registrations",
        )
        .await?;
        keys_table(manager, "account_keys", "account_id", "accounts").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["account_keys", "registration_keys"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn keys_table(
    manager: &SchemaManager<'_>,
    table: &str,
    owner: &str,
    owners: &str,
) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Alias::new(table))
                .col(ColumnDef::new(Alias::new("key")).string_len(200).not_null())
                .col(reference(Alias::new(owner)))
                .primary_key(
                    Index::create()
                        .col(Alias::new("key"))
                        .col(Alias::new(owner)),
                )
                .foreign_key(&mut fk(
                    Alias::new(table),
                    Alias::new(owner),
                    Alias::new(owners),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            &format!("{table}_by_{owner}"),
            Alias::new(table),
            &[owner],
            false,
        ))
        .await
}
