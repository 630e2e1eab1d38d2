//! Other incentives: deal-registration bonus margins and SPIFFs, awarded per qualifying won
//! deal. One award per rule and registration, enforced by a unique key.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(rules()).await?;
        manager.create_table(awards()).await?;
        manager
            .create_index(index(
                "uq_incentive_awards",
                IncentiveAwards::Table,
                &["rule_id", "registration_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_incentive_awards_partner",
                IncentiveAwards::Table,
                &["partner_id", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the incentive awards migration cannot be reverted".into(),
        ))
    }
}

fn rules() -> TableCreateStatement {
    Table::create()
        .table(IncentiveRules::Table)
        .col(id(IncentiveRules::Id))
        .col(
            ColumnDef::new(IncentiveRules::Name)
                .string_len(200)
                .not_null(),
        )
        .col(
            ColumnDef::new(IncentiveRules::Kind)
                .string_len(32)
                .not_null(),
        )
        .col(
            ColumnDef::new(IncentiveRules::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(ColumnDef::new(IncentiveRules::AmountMinor).big_integer())
        .col(ColumnDef::new(IncentiveRules::Rate).string_len(32))
        .col(ColumnDef::new(IncentiveRules::ProductId).big_integer())
        .col(
            ColumnDef::new(IncentiveRules::MinDealMinor)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(IncentiveRules::PeriodStart)
                .date()
                .not_null(),
        )
        .col(ColumnDef::new(IncentiveRules::PeriodEnd).date().not_null())
        .col(timestamp(IncentiveRules::CreatedAt))
        .foreign_key(&mut fk(
            IncentiveRules::Table,
            IncentiveRules::ProductId,
            Products::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

fn awards() -> TableCreateStatement {
    Table::create()
        .table(IncentiveAwards::Table)
        .col(id(IncentiveAwards::Id))
        .col(reference(IncentiveAwards::RuleId))
        .col(reference(IncentiveAwards::RegistrationId))
        .col(reference(IncentiveAwards::PartnerId))
        .col(
            ColumnDef::new(IncentiveAwards::AmountMinor)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(IncentiveAwards::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(IncentiveAwards::Status)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(IncentiveAwards::Reason).text())
        .col(ColumnDef::new(IncentiveAwards::DecidedById).big_integer())
        .col(ColumnDef::new(IncentiveAwards::PaidAt).timestamp_with_time_zone())
        .col(timestamp(IncentiveAwards::CreatedAt))
        .foreign_key(&mut fk(
            IncentiveAwards::Table,
            IncentiveAwards::RuleId,
            IncentiveRules::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            IncentiveAwards::Table,
            IncentiveAwards::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            IncentiveAwards::Table,
            IncentiveAwards::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            IncentiveAwards::Table,
            IncentiveAwards::DecidedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .check(Expr::col(IncentiveAwards::AmountMinor).gte(0))
        .to_owned()
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
enum Products {
    Table,
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
}

#[derive(DeriveIden)]
enum IncentiveRules {
    Table,
    Id,
    Name,
    Kind,
    Currency,
    AmountMinor,
    Rate,
    ProductId,
    MinDealMinor,
    PeriodStart,
    PeriodEnd,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IncentiveAwards {
    Table,
    Id,
    RuleId,
    RegistrationId,
    PartnerId,
    AmountMinor,
    Currency,
    Status,
    Reason,
    DecidedById,
    PaidAt,
    CreatedAt,
}
