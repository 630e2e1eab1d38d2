//! Joint business plans: a plan per partner and period, its revenue targets per quarter and
//! currency, and the append-only history of its states. Actuals are never stored: they are
//! computed from the partner's won registrations and influenced opportunities.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(plans()).await?;
        manager.create_table(targets()).await?;
        manager.create_table(history()).await?;
        for index in [
            index(
                "idx_joint_business_plans_partner",
                JointBusinessPlans::Table,
                &["partner_id", "id"],
                false,
            ),
            index(
                "uq_plan_targets",
                JointBusinessPlanTargets::Table,
                &["plan_id", "quarter", "currency"],
                true,
            ),
            index(
                "idx_plan_history_plan",
                JointBusinessPlanHistory::Table,
                &["plan_id", "id"],
                false,
            ),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the joint business plan migration cannot be reverted".into(),
        ))
    }
}

fn plans() -> TableCreateStatement {
    Table::create()
        .table(JointBusinessPlans::Table)
        .col(id(JointBusinessPlans::Id))
        .col(reference(JointBusinessPlans::PartnerId))
        .col(ColumnDef::new(JointBusinessPlans::Name).text().not_null())
        .col(
            ColumnDef::new(JointBusinessPlans::PeriodStart)
                .date()
                .not_null(),
        )
        .col(
            ColumnDef::new(JointBusinessPlans::PeriodEnd)
                .date()
                .not_null(),
        )
        .col(
            ColumnDef::new(JointBusinessPlans::Status)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(JointBusinessPlans::Version)
                .integer()
                .not_null(),
        )
        .col(reference(JointBusinessPlans::CreatedById))
        .col(ColumnDef::new(JointBusinessPlans::AcceptedById).big_integer())
        .col(ColumnDef::new(JointBusinessPlans::AcceptedAt).timestamp_with_time_zone())
        .col(timestamp(JointBusinessPlans::CreatedAt))
        .col(timestamp(JointBusinessPlans::UpdatedAt))
        .foreign_key(&mut fk(
            JointBusinessPlans::Table,
            JointBusinessPlans::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn targets() -> TableCreateStatement {
    Table::create()
        .table(JointBusinessPlanTargets::Table)
        .col(id(JointBusinessPlanTargets::Id))
        .col(reference(JointBusinessPlanTargets::PlanId))
        .col(
            ColumnDef::new(JointBusinessPlanTargets::Quarter)
                .string_len(8)
                .not_null(),
        )
        .col(
            ColumnDef::new(JointBusinessPlanTargets::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(JointBusinessPlanTargets::AmountMinor)
                .big_integer()
                .not_null(),
        )
        .foreign_key(&mut fk(
            JointBusinessPlanTargets::Table,
            JointBusinessPlanTargets::PlanId,
            JointBusinessPlans::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn history() -> TableCreateStatement {
    Table::create()
        .table(JointBusinessPlanHistory::Table)
        .col(id(JointBusinessPlanHistory::Id))
        .col(reference(JointBusinessPlanHistory::PlanId))
        .col(ColumnDef::new(JointBusinessPlanHistory::FromStatus).string_len(16))
        .col(
            ColumnDef::new(JointBusinessPlanHistory::ToStatus)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(JointBusinessPlanHistory::ActorId).big_integer())
        .col(timestamp(JointBusinessPlanHistory::CreatedAt))
        .foreign_key(&mut fk(
            JointBusinessPlanHistory::Table,
            JointBusinessPlanHistory::PlanId,
            JointBusinessPlans::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

#[derive(DeriveIden)]
enum JointBusinessPlans {
    Table,
    Id,
    PartnerId,
    Name,
    PeriodStart,
    PeriodEnd,
    Status,
    Version,
    CreatedById,
    AcceptedById,
    AcceptedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JointBusinessPlanTargets {
    Table,
    Id,
    PlanId,
    Quarter,
    Currency,
    AmountMinor,
}

#[derive(DeriveIden)]
enum JointBusinessPlanHistory {
    Table,
    Id,
    PlanId,
    FromStatus,
    ToStatus,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
}
