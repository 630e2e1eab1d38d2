//! `dealRegistrations(filter: {hasConflicts})`: whether a registration conflicts depends on
//! every other registration and account around it, too much to evaluate per row of a list.
//! `conflict_score` keeps, for an active registration, the best score among the parties it
//! may conflict with (0 when none, NULL while not yet assessed or not active); the service
//! keeps it current and the list compares it with the program's bands from an index.
//!
//! `registration_keys.partner_id`: a check compares a limited number of candidates, best
//! first, and another registration of the probe's own partner can never conflict with it;
//! without the partner beside the key, a partner's own registrations of a customer took
//! the places of other partners' (the keys are written again at start-up, with it). An
//! index of key, registration and partner answers a key's holders from the index alone
//! (reading the partner from the table made a review page's lookups 15% slower).

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RegistrationKeys::Table)
                    .add_column(ColumnDef::new(RegistrationKeys::PartnerId).big_integer())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_registration_keys_holders",
                RegistrationKeys::Table,
                &["key", "registration_id", "partner_id"],
                false,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DealRegistrations::Table)
                    .add_column(ColumnDef::new(DealRegistrations::ConflictScore).double())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_registrations_conflict_score",
                DealRegistrations::Table,
                &["conflict_score"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_registration_keys_holders")
                    .table(RegistrationKeys::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_registrations_conflict_score")
                    .table(DealRegistrations::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DealRegistrations::Table)
                    .drop_column(DealRegistrations::ConflictScore)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RegistrationKeys::Table)
                    .drop_column(RegistrationKeys::PartnerId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RegistrationKeys {
    Table,
    PartnerId,
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
    ConflictScore,
}
