//! Indexes for the filters a channel team lists registrations by (`dealRegistrations`'s
//! `filter`): the normalised customer name and its first word, and the submission date. (A
//! product's registrations have their index since migration 4.)

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &[&str]); 3] = [
    (
        "idx_registrations_name_key",
        "deal_registrations",
        &["customer_name_key"],
    ),
    (
        "idx_registrations_name_token",
        "deal_registrations",
        &["customer_name_token"],
    ),
    (
        "idx_registrations_submitted_at",
        "deal_registrations",
        &["submitted_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            manager
                .create_index(index(name, Alias::new(table), columns, false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
