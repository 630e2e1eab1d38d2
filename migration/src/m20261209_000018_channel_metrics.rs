//! Channel visibility: direct opportunities with the partners that influenced them, the
//! time of a registration's first decision, daily partner health snapshots, and the
//! indexes the program metrics read their periods from.
//!
//! `decided_at` is new because a rejection's time lived only in the history; the median
//! time to a decision needs it on the row. Rows decided before this migration get the time
//! of their first approval or rejection from the history (or their approval time).
//!
//! The metric indexes put the period's timestamp first and carry the columns the sums and
//! counts read, so a year of a 200,000-registration program is read from the index alone.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DealRegistrations::Table)
                    .add_column(
                        ColumnDef::new(DealRegistrations::DecidedAt).timestamp_with_time_zone(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE deal_registrations SET decided_at = COALESCE(\
                   (SELECT MIN(h.created_at) FROM deal_history h \
                    WHERE h.registration_id = deal_registrations.id \
                      AND h.to_status IN ('APPROVED', 'REJECTED')), \
                   approved_at) \
                 WHERE approved_at IS NOT NULL OR status = 'REJECTED'",
            )
            .await?;
        for table in [
            opportunities(),
            opportunity_history(),
            influences(),
            health_snapshots(),
        ] {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the channel metrics migration cannot be reverted".into(),
        ))
    }
}

fn opportunities() -> TableCreateStatement {
    Table::create()
        .table(DirectOpportunities::Table)
        .col(id(DirectOpportunities::Id))
        .col(
            ColumnDef::new(DirectOpportunities::Name)
                .string_len(200)
                .not_null(),
        )
        .col(reference(DirectOpportunities::AccountId))
        .col(reference(DirectOpportunities::OwnerId))
        .col(
            ColumnDef::new(DirectOpportunities::AmountMinor)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(DirectOpportunities::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(DirectOpportunities::Stage)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(DirectOpportunities::CloseDate)
                .date()
                .not_null(),
        )
        .col(ColumnDef::new(DirectOpportunities::ClosedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(DirectOpportunities::CreatedById).big_integer())
        .col(ColumnDef::new(DirectOpportunities::IdempotencyKey).string_len(200))
        .col(ColumnDef::new(DirectOpportunities::RequestHash).string_len(64))
        .col(
            ColumnDef::new(DirectOpportunities::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .col(timestamp(DirectOpportunities::CreatedAt))
        .col(timestamp(DirectOpportunities::UpdatedAt))
        .foreign_key(&mut fk(
            DirectOpportunities::Table,
            DirectOpportunities::AccountId,
            Accounts::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            DirectOpportunities::Table,
            DirectOpportunities::OwnerId,
            Users::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            DirectOpportunities::Table,
            DirectOpportunities::CreatedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn opportunity_history() -> TableCreateStatement {
    Table::create()
        .table(DirectOpportunityHistory::Table)
        .col(id(DirectOpportunityHistory::Id))
        .col(reference(DirectOpportunityHistory::OpportunityId))
        .col(ColumnDef::new(DirectOpportunityHistory::ActorId).big_integer())
        .col(ColumnDef::new(DirectOpportunityHistory::FromStage).string_len(16))
        .col(
            ColumnDef::new(DirectOpportunityHistory::ToStage)
                .string_len(16)
                .not_null(),
        )
        .col(timestamp(DirectOpportunityHistory::CreatedAt))
        .foreign_key(&mut fk(
            DirectOpportunityHistory::Table,
            DirectOpportunityHistory::OpportunityId,
            DirectOpportunities::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            DirectOpportunityHistory::Table,
            DirectOpportunityHistory::ActorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn influences() -> TableCreateStatement {
    Table::create()
        .table(OpportunityInfluences::Table)
        .col(id(OpportunityInfluences::Id))
        .col(reference(OpportunityInfluences::OpportunityId))
        .col(reference(OpportunityInfluences::PartnerId))
        .col(
            ColumnDef::new(OpportunityInfluences::Role)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(OpportunityInfluences::AddedById).big_integer())
        .col(timestamp(OpportunityInfluences::CreatedAt))
        .foreign_key(&mut fk(
            OpportunityInfluences::Table,
            OpportunityInfluences::OpportunityId,
            DirectOpportunities::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            OpportunityInfluences::Table,
            OpportunityInfluences::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            OpportunityInfluences::Table,
            OpportunityInfluences::AddedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn health_snapshots() -> TableCreateStatement {
    Table::create()
        .table(PartnerHealthSnapshots::Table)
        .col(id(PartnerHealthSnapshots::Id))
        .col(reference(PartnerHealthSnapshots::PartnerId))
        .col(
            ColumnDef::new(PartnerHealthSnapshots::Day)
                .date()
                .not_null(),
        )
        .col(
            ColumnDef::new(PartnerHealthSnapshots::ScoreHundredths)
                .integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(PartnerHealthSnapshots::Band)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(PartnerHealthSnapshots::Factors)
                .text()
                .not_null(),
        )
        .col(timestamp(PartnerHealthSnapshots::CreatedAt))
        .foreign_key(&mut fk(
            PartnerHealthSnapshots::Table,
            PartnerHealthSnapshots::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_registrations_closed_metrics",
            DealRegistrations::Table,
            &[
                "closed_at",
                "status",
                "partner_id",
                "currency",
                "closed_amount_minor",
                "submitted_at",
            ],
            false,
        ),
        index(
            "idx_registrations_decided_metrics",
            DealRegistrations::Table,
            &["decided_at", "partner_id", "approved_at", "submitted_at"],
            false,
        ),
        index(
            "idx_registrations_submitted_partner",
            DealRegistrations::Table,
            &["submitted_at", "partner_id"],
            false,
        ),
        index(
            "idx_opportunities_closed",
            DirectOpportunities::Table,
            &["closed_at", "stage"],
            false,
        ),
        index(
            "idx_opportunities_owner",
            DirectOpportunities::Table,
            &["owner_id"],
            false,
        ),
        index(
            "idx_opportunities_account",
            DirectOpportunities::Table,
            &["account_id"],
            false,
        ),
        index(
            "idx_opportunities_idempotency",
            DirectOpportunities::Table,
            &["created_by_id", "idempotency_key"],
            true,
        ),
        index(
            "idx_opportunity_history_opportunity",
            DirectOpportunityHistory::Table,
            &["opportunity_id"],
            false,
        ),
        index(
            "idx_influences_once",
            OpportunityInfluences::Table,
            &["opportunity_id", "partner_id"],
            true,
        ),
        index(
            "idx_influences_partner",
            OpportunityInfluences::Table,
            &["partner_id"],
            false,
        ),
        index(
            "idx_health_snapshots_day",
            PartnerHealthSnapshots::Table,
            &["partner_id", "day"],
            true,
        ),
        index(
            "idx_content_events_time",
            ContentEvents::Table,
            &["created_at", "partner_id", "kind"],
            false,
        ),
        index(
            "idx_course_completions_time",
            CourseCompletions::Table,
            &["completed_at", "user_id"],
            false,
        ),
        index(
            "idx_sessions_time",
            Sessions::Table,
            &["created_at", "user_id"],
            false,
        ),
    ]
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
    DecidedAt,
}

#[derive(DeriveIden)]
enum DirectOpportunities {
    Table,
    Id,
    Name,
    AccountId,
    OwnerId,
    AmountMinor,
    Currency,
    Stage,
    CloseDate,
    ClosedAt,
    CreatedById,
    IdempotencyKey,
    RequestHash,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DirectOpportunityHistory {
    Table,
    Id,
    OpportunityId,
    ActorId,
    FromStage,
    ToStage,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OpportunityInfluences {
    Table,
    Id,
    OpportunityId,
    PartnerId,
    Role,
    AddedById,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PartnerHealthSnapshots {
    Table,
    Id,
    PartnerId,
    Day,
    ScoreHundredths,
    Band,
    Factors,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
}

#[derive(DeriveIden)]
enum ContentEvents {
    Table,
}

#[derive(DeriveIden)]
enum CourseCompletions {
    Table,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
}
