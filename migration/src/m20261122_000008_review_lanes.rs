//! The deal review queue ranks registrations awaiting a decision: those competing with
//! another partner's active registration for the same customer first, then the oldest
//! submission. Computing "competing" at read time evaluated every pending registration per
//! request, so the queue's first page grew with the program. `review_lane` stores the rank
//! (0 competing, 1 alone, NULL when not awaiting a decision); the service keeps it current
//! and the queue's first page becomes an index range.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The lanes of every registration, from the rule the queue used to evaluate per request.
const BACKFILL: &str = "UPDATE deal_registrations SET review_lane = \
    CASE WHEN status IN ('SUBMITTED', 'UNDER_REVIEW') THEN \
      CASE WHEN EXISTS (SELECT 1 FROM deal_registrations other \
        WHERE other.customer_key = deal_registrations.customer_key \
          AND other.partner_id <> deal_registrations.partner_id \
          AND other.status IN ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED')) \
      THEN 0 ELSE 1 END END \
    WHERE status IN ('SUBMITTED', 'UNDER_REVIEW')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DealRegistrations::Table)
                    .add_column(ColumnDef::new(DealRegistrations::ReviewLane).small_integer())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(BACKFILL)
            .await?;
        manager
            .create_index(index(
                "idx_registrations_review_lane",
                DealRegistrations::Table,
                &["review_lane", "submitted_at", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the review lane migration cannot be reverted".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
    ReviewLane,
}
