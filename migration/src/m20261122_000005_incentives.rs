//! Incentives: rebate programs, the money ledger, and MDF budgets → allocations → requests
//! → activities → claims. Every "no more than" invariant is also a CHECK constraint, and
//! the service moves running totals with conditional updates, so concurrent requests can
//! never overspend.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            programs(),
            eligibility(),
            ledger(),
            budgets(),
            allocations(),
            requests(),
            activities(),
            claims(),
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
            "the incentives migration cannot be reverted".into(),
        ))
    }
}

fn money(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn programs() -> TableCreateStatement {
    Table::create()
        .table(RebatePrograms::Table)
        .col(id(RebatePrograms::Id))
        .col(
            ColumnDef::new(RebatePrograms::Name)
                .string_len(200)
                .not_null(),
        )
        .col(
            ColumnDef::new(RebatePrograms::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(RebatePrograms::PeriodStart)
                .date()
                .not_null(),
        )
        .col(ColumnDef::new(RebatePrograms::PeriodEnd).date().not_null())
        .col(
            ColumnDef::new(RebatePrograms::Method)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(RebatePrograms::CapMinor).big_integer())
        .col(ColumnDef::new(RebatePrograms::Bands).text().not_null())
        .col(
            ColumnDef::new(RebatePrograms::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .col(timestamp(RebatePrograms::CreatedAt))
        .col(timestamp(RebatePrograms::UpdatedAt))
        .check(Expr::col(RebatePrograms::PeriodEnd).gte(Expr::col(RebatePrograms::PeriodStart)))
        .to_owned()
}

fn eligibility() -> TableCreateStatement {
    Table::create()
        .table(RebateEligibility::Table)
        .col(id(RebateEligibility::Id))
        .col(reference(RebateEligibility::ProgramId))
        .col(ColumnDef::new(RebateEligibility::PartnerId).big_integer())
        .col(ColumnDef::new(RebateEligibility::TierId).big_integer())
        .foreign_key(&mut fk(
            RebateEligibility::Table,
            RebateEligibility::ProgramId,
            RebatePrograms::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            RebateEligibility::Table,
            RebateEligibility::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            RebateEligibility::Table,
            RebateEligibility::TierId,
            Tiers::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn ledger() -> TableCreateStatement {
    Table::create()
        .table(LedgerEntries::Table)
        .col(id(LedgerEntries::Id))
        .col(reference(LedgerEntries::PartnerId))
        .col(ColumnDef::new(LedgerEntries::ProgramId).big_integer())
        .col(
            ColumnDef::new(LedgerEntries::Kind)
                .string_len(32)
                .not_null(),
        )
        .col(money(LedgerEntries::AmountMinor))
        .col(
            ColumnDef::new(LedgerEntries::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(LedgerEntries::Source)
                .string_len(200)
                .not_null(),
        )
        .col(ColumnDef::new(LedgerEntries::ActorId).big_integer())
        .col(timestamp(LedgerEntries::CreatedAt))
        .foreign_key(&mut fk(
            LedgerEntries::Table,
            LedgerEntries::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            LedgerEntries::Table,
            LedgerEntries::ProgramId,
            RebatePrograms::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            LedgerEntries::Table,
            LedgerEntries::ActorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn budgets() -> TableCreateStatement {
    Table::create()
        .table(MdfBudgets::Table)
        .col(id(MdfBudgets::Id))
        .col(ColumnDef::new(MdfBudgets::Name).string_len(200).not_null())
        .col(money(MdfBudgets::AmountMinor))
        .col(
            ColumnDef::new(MdfBudgets::AllocatedMinor)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(MdfBudgets::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(ColumnDef::new(MdfBudgets::PeriodStart).date().not_null())
        .col(ColumnDef::new(MdfBudgets::PeriodEnd).date().not_null())
        .col(timestamp(MdfBudgets::CreatedAt))
        .check(Expr::col(MdfBudgets::AllocatedMinor).lte(Expr::col(MdfBudgets::AmountMinor)))
        .check(Expr::col(MdfBudgets::AllocatedMinor).gte(0))
        .to_owned()
}

fn allocations() -> TableCreateStatement {
    Table::create()
        .table(MdfAllocations::Table)
        .col(id(MdfAllocations::Id))
        .col(reference(MdfAllocations::BudgetId))
        .col(reference(MdfAllocations::PartnerId))
        .col(money(MdfAllocations::AmountMinor))
        .col(
            ColumnDef::new(MdfAllocations::ApprovedMinor)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(timestamp(MdfAllocations::CreatedAt))
        .foreign_key(&mut fk(
            MdfAllocations::Table,
            MdfAllocations::BudgetId,
            MdfBudgets::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            MdfAllocations::Table,
            MdfAllocations::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .check(Expr::col(MdfAllocations::ApprovedMinor).lte(Expr::col(MdfAllocations::AmountMinor)))
        .check(Expr::col(MdfAllocations::AmountMinor).gt(0))
        .to_owned()
}

fn requests() -> TableCreateStatement {
    Table::create()
        .table(MdfRequests::Table)
        .col(id(MdfRequests::Id))
        .col(reference(MdfRequests::AllocationId))
        .col(reference(MdfRequests::PartnerId))
        .col(
            ColumnDef::new(MdfRequests::Title)
                .string_len(200)
                .not_null(),
        )
        .col(ColumnDef::new(MdfRequests::CreatedById).big_integer())
        .col(timestamp(MdfRequests::CreatedAt))
        .foreign_key(&mut fk(
            MdfRequests::Table,
            MdfRequests::AllocationId,
            MdfAllocations::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            MdfRequests::Table,
            MdfRequests::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

fn activities() -> TableCreateStatement {
    Table::create()
        .table(MdfActivities::Table)
        .col(id(MdfActivities::Id))
        .col(reference(MdfActivities::RequestId))
        .col(ColumnDef::new(MdfActivities::Description).text().not_null())
        .col(money(MdfActivities::RequestedMinor))
        .col(ColumnDef::new(MdfActivities::ApprovedMinor).big_integer())
        .col(
            ColumnDef::new(MdfActivities::ClaimedMinor)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(MdfActivities::Status)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(MdfActivities::ClaimDeadline).date())
        .col(ColumnDef::new(MdfActivities::RequiredProof).text())
        .foreign_key(&mut fk(
            MdfActivities::Table,
            MdfActivities::RequestId,
            MdfRequests::Table,
            ForeignKeyAction::Cascade,
        ))
        .check(Expr::col(MdfActivities::RequestedMinor).gt(0))
        .check(
            Expr::col(MdfActivities::ClaimedMinor).lte(Expr::cust("COALESCE(approved_minor, 0)")),
        )
        .to_owned()
}

fn claims() -> TableCreateStatement {
    Table::create()
        .table(MdfClaims::Table)
        .col(id(MdfClaims::Id))
        .col(reference(MdfClaims::ActivityId))
        .col(reference(MdfClaims::PartnerId))
        .col(money(MdfClaims::AmountMinor))
        .col(ColumnDef::new(MdfClaims::ProofFileId).big_integer())
        .col(ColumnDef::new(MdfClaims::ProofNote).text())
        .col(ColumnDef::new(MdfClaims::Status).string_len(16).not_null())
        .col(ColumnDef::new(MdfClaims::PaidAt).timestamp_with_time_zone())
        .col(timestamp(MdfClaims::CreatedAt))
        .foreign_key(&mut fk(
            MdfClaims::Table,
            MdfClaims::ActivityId,
            MdfActivities::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            MdfClaims::Table,
            MdfClaims::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            MdfClaims::Table,
            MdfClaims::ProofFileId,
            ContentFiles::Table,
            ForeignKeyAction::SetNull,
        ))
        .check(Expr::col(MdfClaims::AmountMinor).gt(0))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_rebate_eligibility_program",
            RebateEligibility::Table,
            &["program_id"],
            false,
        ),
        index(
            "idx_ledger_partner",
            LedgerEntries::Table,
            &["partner_id", "id"],
            false,
        ),
        index(
            "idx_ledger_program_partner",
            LedgerEntries::Table,
            &["program_id", "partner_id"],
            false,
        ),
        index(
            "idx_mdf_allocations_partner",
            MdfAllocations::Table,
            &["partner_id"],
            false,
        ),
        index(
            "idx_mdf_requests_partner",
            MdfRequests::Table,
            &["partner_id"],
            false,
        ),
        index(
            "idx_mdf_activities_request",
            MdfActivities::Table,
            &["request_id"],
            false,
        ),
        index(
            "idx_mdf_claims_activity",
            MdfClaims::Table,
            &["activity_id"],
            false,
        ),
    ]
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
enum Tiers {
    Table,
}

#[derive(DeriveIden)]
enum ContentFiles {
    Table,
}

#[derive(DeriveIden)]
enum RebatePrograms {
    Table,
    Id,
    Name,
    Currency,
    PeriodStart,
    PeriodEnd,
    Method,
    CapMinor,
    Bands,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RebateEligibility {
    Table,
    Id,
    ProgramId,
    PartnerId,
    TierId,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    PartnerId,
    ProgramId,
    Kind,
    AmountMinor,
    Currency,
    Source,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MdfBudgets {
    Table,
    Id,
    Name,
    AmountMinor,
    AllocatedMinor,
    Currency,
    PeriodStart,
    PeriodEnd,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MdfAllocations {
    Table,
    Id,
    BudgetId,
    PartnerId,
    AmountMinor,
    ApprovedMinor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MdfRequests {
    Table,
    Id,
    AllocationId,
    PartnerId,
    Title,
    CreatedById,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MdfActivities {
    Table,
    Id,
    RequestId,
    Description,
    RequestedMinor,
    ApprovedMinor,
    ClaimedMinor,
    Status,
    ClaimDeadline,
    RequiredProof,
}

#[derive(DeriveIden)]
enum MdfClaims {
    Table,
    Id,
    ActivityId,
    PartnerId,
    AmountMinor,
    ProofFileId,
    ProofNote,
    Status,
    PaidAt,
    CreatedAt,
}
