//! Deal registration: products, accounts (rules of engagement), registrations with their
//! products, history and comments, and the exclusivity table whose unique key makes two
//! approvals of the same customer and product impossible, on any number of replicas.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            products(),
            accounts(),
            account_domains(),
            registrations(),
            registration_products(),
            exclusivity(),
            history(),
            comments(),
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
            "the deal registration migration cannot be reverted".into(),
        ))
    }
}

fn products() -> TableCreateStatement {
    Table::create()
        .table(Products::Table)
        .col(id(Products::Id))
        .col(
            ColumnDef::new(Products::Name)
                .string_len(200)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Products::Sku)
                .string_len(64)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Products::Active)
                .boolean()
                .not_null()
                .default(true),
        )
        .col(timestamp(Products::CreatedAt))
        .to_owned()
}

fn accounts() -> TableCreateStatement {
    Table::create()
        .table(Accounts::Table)
        .col(id(Accounts::Id))
        .col(ColumnDef::new(Accounts::Name).string_len(200).not_null())
        .col(ColumnDef::new(Accounts::NameKey).string_len(200).not_null())
        .col(
            ColumnDef::new(Accounts::NameToken)
                .string_len(100)
                .not_null(),
        )
        .col(ColumnDef::new(Accounts::Country).string_len(2))
        .col(
            ColumnDef::new(Accounts::Ownership)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(Accounts::IsCustomer)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(ColumnDef::new(Accounts::OwnerId).big_integer())
        .col(timestamp(Accounts::CreatedAt))
        .foreign_key(&mut fk(
            Accounts::Table,
            Accounts::OwnerId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn account_domains() -> TableCreateStatement {
    Table::create()
        .table(AccountDomains::Table)
        .col(id(AccountDomains::Id))
        .col(reference(AccountDomains::AccountId))
        .col(
            ColumnDef::new(AccountDomains::Domain)
                .string_len(253)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(AccountDomains::Root)
                .string_len(253)
                .not_null(),
        )
        .foreign_key(&mut fk(
            AccountDomains::Table,
            AccountDomains::AccountId,
            Accounts::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn registrations() -> TableCreateStatement {
    Table::create()
        .table(DealRegistrations::Table)
        .col(id(DealRegistrations::Id))
        .col(reference(DealRegistrations::PartnerId))
        .col(ColumnDef::new(DealRegistrations::CreatedById).big_integer())
        .col(
            ColumnDef::new(DealRegistrations::Status)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::CustomerName)
                .string_len(200)
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::CustomerNameKey)
                .string_len(200)
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::CustomerNameToken)
                .string_len(100)
                .not_null(),
        )
        .col(ColumnDef::new(DealRegistrations::CustomerDomain).string_len(253))
        .col(ColumnDef::new(DealRegistrations::CustomerRoot).string_len(253))
        .col(ColumnDef::new(DealRegistrations::CustomerCountry).string_len(2))
        .col(
            ColumnDef::new(DealRegistrations::CustomerKey)
                .string_len(260)
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::EstimatedValueMinor)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::Currency)
                .string_len(3)
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::ExpectedCloseDate)
                .date()
                .not_null(),
        )
        .col(
            ColumnDef::new(DealRegistrations::DealType)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(DealRegistrations::Description).text())
        .col(ColumnDef::new(DealRegistrations::ExternalId).string_len(100))
        .col(ColumnDef::new(DealRegistrations::IdempotencyKey).string_len(200))
        .col(ColumnDef::new(DealRegistrations::RequestHash).string_len(64))
        .col(ColumnDef::new(DealRegistrations::SubmittedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(DealRegistrations::ApprovedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(DealRegistrations::ProtectedUntil).timestamp_with_time_zone())
        .col(ColumnDef::new(DealRegistrations::ExtensionRequestDays).integer())
        .col(ColumnDef::new(DealRegistrations::ExtensionRequestReason).text())
        .col(ColumnDef::new(DealRegistrations::ClosedAmountMinor).big_integer())
        .col(ColumnDef::new(DealRegistrations::ClosedAt).timestamp_with_time_zone())
        .col(
            ColumnDef::new(DealRegistrations::ResubmissionCount)
                .integer()
                .not_null()
                .default(0),
        )
        .col(ColumnDef::new(DealRegistrations::EditableFields).text())
        .col(ColumnDef::new(DealRegistrations::ContestedAt).timestamp_with_time_zone())
        .col(
            ColumnDef::new(DealRegistrations::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .col(timestamp(DealRegistrations::CreatedAt))
        .col(timestamp(DealRegistrations::UpdatedAt))
        .foreign_key(&mut fk(
            DealRegistrations::Table,
            DealRegistrations::PartnerId,
            Partners::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            DealRegistrations::Table,
            DealRegistrations::CreatedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .check(Expr::col(DealRegistrations::EstimatedValueMinor).gt(0))
        .to_owned()
}

fn registration_products() -> TableCreateStatement {
    Table::create()
        .table(DealRegistrationProducts::Table)
        .col(reference(DealRegistrationProducts::RegistrationId))
        .col(reference(DealRegistrationProducts::ProductId))
        .primary_key(
            Index::create()
                .col(DealRegistrationProducts::RegistrationId)
                .col(DealRegistrationProducts::ProductId),
        )
        .foreign_key(&mut fk(
            DealRegistrationProducts::Table,
            DealRegistrationProducts::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            DealRegistrationProducts::Table,
            DealRegistrationProducts::ProductId,
            Products::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

/// One row per (customer, product) held by an approved registration. Its primary key is
/// the exclusivity invariant.
fn exclusivity() -> TableCreateStatement {
    Table::create()
        .table(DealExclusivity::Table)
        .col(
            ColumnDef::new(DealExclusivity::CustomerKey)
                .string_len(260)
                .not_null(),
        )
        .col(reference(DealExclusivity::ProductId))
        .col(reference(DealExclusivity::RegistrationId))
        .primary_key(
            Index::create()
                .col(DealExclusivity::CustomerKey)
                .col(DealExclusivity::ProductId),
        )
        .foreign_key(&mut fk(
            DealExclusivity::Table,
            DealExclusivity::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            DealExclusivity::Table,
            DealExclusivity::ProductId,
            Products::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

fn history() -> TableCreateStatement {
    Table::create()
        .table(DealHistory::Table)
        .col(id(DealHistory::Id))
        .col(reference(DealHistory::RegistrationId))
        .col(ColumnDef::new(DealHistory::ActorId).big_integer())
        .col(ColumnDef::new(DealHistory::FromStatus).string_len(16))
        .col(
            ColumnDef::new(DealHistory::ToStatus)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(DealHistory::Reason).text())
        .col(timestamp(DealHistory::CreatedAt))
        .foreign_key(&mut fk(
            DealHistory::Table,
            DealHistory::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            DealHistory::Table,
            DealHistory::ActorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn comments() -> TableCreateStatement {
    Table::create()
        .table(DealComments::Table)
        .col(id(DealComments::Id))
        .col(reference(DealComments::RegistrationId))
        .col(ColumnDef::new(DealComments::AuthorId).big_integer())
        .col(ColumnDef::new(DealComments::Body).text().not_null())
        .col(ColumnDef::new(DealComments::Internal).boolean().not_null())
        .col(timestamp(DealComments::CreatedAt))
        .foreign_key(&mut fk(
            DealComments::Table,
            DealComments::RegistrationId,
            DealRegistrations::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            DealComments::Table,
            DealComments::AuthorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "uq_registrations_idempotency",
            DealRegistrations::Table,
            &["partner_id", "idempotency_key"],
            true,
        ),
        index(
            "idx_registrations_partner",
            DealRegistrations::Table,
            &["partner_id", "id"],
            false,
        ),
        index(
            "idx_registrations_status",
            DealRegistrations::Table,
            &["status", "submitted_at"],
            false,
        ),
        index(
            "idx_registrations_root",
            DealRegistrations::Table,
            &["customer_root"],
            false,
        ),
        index(
            "idx_registrations_name_token",
            DealRegistrations::Table,
            &["customer_name_token"],
            false,
        ),
        index(
            "idx_registrations_protected",
            DealRegistrations::Table,
            &["status", "protected_until"],
            false,
        ),
        index(
            "idx_registration_products_product",
            DealRegistrationProducts::Table,
            &["product_id"],
            false,
        ),
        index(
            "idx_account_domains_root",
            AccountDomains::Table,
            &["root"],
            false,
        ),
        index(
            "idx_accounts_name_token",
            Accounts::Table,
            &["name_token"],
            false,
        ),
        index("idx_accounts_owner", Accounts::Table, &["owner_id"], false),
        index(
            "idx_deal_history_registration",
            DealHistory::Table,
            &["registration_id", "id"],
            false,
        ),
        index(
            "idx_deal_comments_registration",
            DealComments::Table,
            &["registration_id", "id"],
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
enum Products {
    Table,
    Id,
    Name,
    Sku,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Name,
    NameKey,
    NameToken,
    Country,
    Ownership,
    IsCustomer,
    OwnerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountDomains {
    Table,
    Id,
    AccountId,
    Domain,
    Root,
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
    Id,
    PartnerId,
    CreatedById,
    Status,
    CustomerName,
    CustomerNameKey,
    CustomerNameToken,
    CustomerDomain,
    CustomerRoot,
    CustomerCountry,
    CustomerKey,
    EstimatedValueMinor,
    Currency,
    ExpectedCloseDate,
    DealType,
    Description,
    ExternalId,
    IdempotencyKey,
    RequestHash,
    SubmittedAt,
    ApprovedAt,
    ProtectedUntil,
    ExtensionRequestDays,
    ExtensionRequestReason,
    ClosedAmountMinor,
    ClosedAt,
    ResubmissionCount,
    EditableFields,
    ContestedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DealRegistrationProducts {
    Table,
    RegistrationId,
    ProductId,
}

#[derive(DeriveIden)]
enum DealExclusivity {
    Table,
    CustomerKey,
    ProductId,
    RegistrationId,
}

#[derive(DeriveIden)]
enum DealHistory {
    Table,
    Id,
    RegistrationId,
    ActorId,
    FromStatus,
    ToStatus,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DealComments {
    Table,
    Id,
    RegistrationId,
    AuthorId,
    Body,
    Internal,
    CreatedAt,
}
