//! Lead distribution: leads from the vendor's marketing, the rules that route them to
//! partners, each lead's history (every routing decision with why), and the partners that
//! declined a lead or let it lapse, who are never offered it again.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [rules(), leads(), products(), history(), exclusions()] {
            manager.create_table(table).await?;
        }
        for index in [
            index(
                "idx_leads_partner_status",
                Leads::Table,
                &["assigned_partner_id", "status"],
                false,
            ),
            index(
                "idx_leads_status_accept_by",
                Leads::Table,
                &["status", "accept_by"],
                false,
            ),
            index(
                "idx_leads_registration",
                Leads::Table,
                &["registration_id"],
                false,
            ),
            index(
                "idx_lead_history_lead",
                LeadHistory::Table,
                &["lead_id", "id"],
                false,
            ),
            index(
                "idx_lead_history_partner",
                LeadHistory::Table,
                &["partner_id", "to_status"],
                false,
            ),
        ] {
            manager.create_index(index).await?;
        }
        // One lead per creator and key (partial, as the registrations' keys).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_leads_idempotency_key ON leads (created_by_id, idempotency_key) \
                 WHERE idempotency_key IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the lead distribution migration cannot be reverted".into(),
        ))
    }
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn optional_text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().to_owned()
}

fn status(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string_len(16).not_null().to_owned()
}

fn rules() -> TableCreateStatement {
    Table::create()
        .table(LeadRoutingRules::Table)
        .col(id(LeadRoutingRules::Id))
        .col(text(LeadRoutingRules::Name))
        .col(
            ColumnDef::new(LeadRoutingRules::Priority)
                .integer()
                .not_null(),
        )
        .col(text(LeadRoutingRules::Regions))
        .col(text(LeadRoutingRules::Verticals))
        .col(text(LeadRoutingRules::ProductIds))
        .col(text(LeadRoutingRules::PartnerIds))
        .col(text(LeadRoutingRules::PartnerTypes))
        .col(ColumnDef::new(LeadRoutingRules::MinTierId).big_integer())
        .col(text(LeadRoutingRules::CertificationProgramIds))
        .col(ColumnDef::new(LeadRoutingRules::Capacity).integer())
        .col(
            ColumnDef::new(LeadRoutingRules::IsActive)
                .boolean()
                .not_null(),
        )
        .col(timestamp(LeadRoutingRules::CreatedAt))
        .col(timestamp(LeadRoutingRules::UpdatedAt))
        .foreign_key(&mut fk(
            LeadRoutingRules::Table,
            LeadRoutingRules::MinTierId,
            Tiers::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn leads() -> TableCreateStatement {
    Table::create()
        .table(Leads::Table)
        .col(id(Leads::Id))
        .col(text(Leads::CompanyName))
        .col(optional_text(Leads::CompanyDomain))
        .col(optional_text(Leads::Country))
        .col(optional_text(Leads::Region))
        .col(optional_text(Leads::Vertical))
        .col(optional_text(Leads::ContactName))
        .col(optional_text(Leads::ContactEmail))
        .col(optional_text(Leads::ContactPhone))
        .col(optional_text(Leads::Source))
        .col(status(Leads::Status))
        .col(ColumnDef::new(Leads::AssignedPartnerId).big_integer())
        .col(ColumnDef::new(Leads::RuleId).big_integer())
        .col(ColumnDef::new(Leads::AssignedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(Leads::AcceptBy).timestamp_with_time_zone())
        .col(ColumnDef::new(Leads::AcceptedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(Leads::ConvertedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(Leads::RegistrationId).big_integer())
        .col(reference(Leads::CreatedById))
        .col(optional_text(Leads::IdempotencyKey))
        .col(optional_text(Leads::RequestHash))
        .col(ColumnDef::new(Leads::Version).integer().not_null())
        .col(timestamp(Leads::CreatedAt))
        .col(timestamp(Leads::UpdatedAt))
        .foreign_key(&mut fk(
            Leads::Table,
            Leads::AssignedPartnerId,
            Partners::Table,
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            Leads::Table,
            Leads::RuleId,
            LeadRoutingRules::Table,
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            Leads::Table,
            Leads::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            Leads::Table,
            Leads::CreatedById,
            Users::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

fn products() -> TableCreateStatement {
    Table::create()
        .table(LeadProducts::Table)
        .col(reference(LeadProducts::LeadId))
        .col(reference(LeadProducts::ProductId))
        .primary_key(
            Index::create()
                .col(LeadProducts::LeadId)
                .col(LeadProducts::ProductId),
        )
        .foreign_key(&mut fk(
            LeadProducts::Table,
            LeadProducts::LeadId,
            Leads::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            LeadProducts::Table,
            LeadProducts::ProductId,
            Products::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn history() -> TableCreateStatement {
    Table::create()
        .table(LeadHistory::Table)
        .col(id(LeadHistory::Id))
        .col(reference(LeadHistory::LeadId))
        .col(ColumnDef::new(LeadHistory::FromStatus).string_len(16))
        .col(status(LeadHistory::ToStatus))
        .col(ColumnDef::new(LeadHistory::PartnerId).big_integer())
        .col(ColumnDef::new(LeadHistory::ActorId).big_integer())
        .col(text(LeadHistory::Reason))
        .col(timestamp(LeadHistory::CreatedAt))
        .foreign_key(&mut fk(
            LeadHistory::Table,
            LeadHistory::LeadId,
            Leads::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn exclusions() -> TableCreateStatement {
    Table::create()
        .table(LeadExclusions::Table)
        .col(reference(LeadExclusions::LeadId))
        .col(reference(LeadExclusions::PartnerId))
        .col(status(LeadExclusions::Reason))
        .col(optional_text(LeadExclusions::Note))
        .col(timestamp(LeadExclusions::CreatedAt))
        .primary_key(
            Index::create()
                .col(LeadExclusions::LeadId)
                .col(LeadExclusions::PartnerId),
        )
        .foreign_key(&mut fk(
            LeadExclusions::Table,
            LeadExclusions::LeadId,
            Leads::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            LeadExclusions::Table,
            LeadExclusions::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

#[derive(DeriveIden)]
enum LeadRoutingRules {
    Table,
    Id,
    Name,
    Priority,
    Regions,
    Verticals,
    ProductIds,
    PartnerIds,
    PartnerTypes,
    MinTierId,
    CertificationProgramIds,
    Capacity,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Leads {
    Table,
    Id,
    CompanyName,
    CompanyDomain,
    Country,
    Region,
    Vertical,
    ContactName,
    ContactEmail,
    ContactPhone,
    Source,
    Status,
    AssignedPartnerId,
    RuleId,
    AssignedAt,
    AcceptBy,
    AcceptedAt,
    ConvertedAt,
    RegistrationId,
    CreatedById,
    IdempotencyKey,
    RequestHash,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LeadProducts {
    Table,
    LeadId,
    ProductId,
}

#[derive(DeriveIden)]
enum LeadHistory {
    Table,
    Id,
    LeadId,
    FromStatus,
    ToStatus,
    PartnerId,
    ActorId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LeadExclusions {
    Table,
    LeadId,
    PartnerId,
    Reason,
    Note,
    CreatedAt,
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
enum Products {
    Table,
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
