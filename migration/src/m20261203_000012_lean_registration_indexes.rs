//! Every registration written updates every index of `deal_registrations`: ten on
//! PostgreSQL for a draft, the write path partners' systems drive hardest. Three of them
//! only ever serve a few of the rows, and one no longer serves any query on PostgreSQL:
//! - the review queue reads `review_lane IS NOT NULL` only: the lane index keeps those rows;
//! - the expiry job reads approved registrations only: the protection index keeps those;
//! - an idempotency key is unique per partner, and most registrations have none: the unique
//!   index keeps the registrations with a key (a lookup by key implies one);
//! - PostgreSQL finds conflict candidates by name token through the partial index of active
//!   registrations (migration 10), so the (token, status) index is dropped there. SQLite
//!   keeps it: its candidate lookups use it.
//!
//! A draft then updates six indexes on PostgreSQL, and each index is smaller. The replaced
//! indexes are renamed for what they now hold.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(
            manager,
            "idx_registrations_review_lane",
            Index::create()
                .name("idx_registrations_in_review")
                .table(DealRegistrations::Table)
                .col(DealRegistrations::ReviewLane)
                .col(DealRegistrations::SubmittedAt)
                .col(DealRegistrations::Id)
                .and_where(Expr::col(DealRegistrations::ReviewLane).is_not_null())
                .to_owned(),
        )
        .await?;
        replace(
            manager,
            "idx_registrations_protected",
            Index::create()
                .name("idx_registrations_approved_until")
                .table(DealRegistrations::Table)
                .col(DealRegistrations::ProtectedUntil)
                .and_where(Expr::col(DealRegistrations::Status).eq("APPROVED"))
                .to_owned(),
        )
        .await?;
        replace(
            manager,
            "uq_registrations_idempotency",
            Index::create()
                .name("uq_registrations_idempotency_key")
                .table(DealRegistrations::Table)
                .col(DealRegistrations::PartnerId)
                .col(DealRegistrations::IdempotencyKey)
                .unique()
                .and_where(Expr::col(DealRegistrations::IdempotencyKey).is_not_null())
                .to_owned(),
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .drop_index(drop("idx_registrations_token_status"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the lean registration index migration cannot be reverted".into(),
        ))
    }
}

/// Creates `index` in place of the index `old`, then drops `old`: the queries it serves
/// never lack an index. The new index has a name of its own: SQLite, migrated through the
/// pool, refused to create an index under the name of the one this migration had just
/// dropped ("already exists").
async fn replace(
    manager: &SchemaManager<'_>,
    old: &str,
    index: IndexCreateStatement,
) -> Result<(), DbErr> {
    manager.create_index(index).await?;
    manager.drop_index(drop(old)).await
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(name)
        .table(DealRegistrations::Table)
        .to_owned()
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
    Id,
    PartnerId,
    Status,
    IdempotencyKey,
    SubmittedAt,
    ProtectedUntil,
    ReviewLane,
}
