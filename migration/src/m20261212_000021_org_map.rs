//! The partner's org map: who reports to whom and in which department, what each person
//! pushes (products or verticals, and how strongly), how well named vendor staff know them
//! (with the vendor's executive sponsors), and the vendor's private notes on them.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Contacts::Department).text().to_owned(),
            ColumnDef::new(Contacts::ReportsToId)
                .big_integer()
                .to_owned(),
            ColumnDef::new(Contacts::VendorNotes).text().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Contacts::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager.create_table(influences()).await?;
        manager.create_table(relationships()).await?;
        for index in [
            index(
                "idx_contacts_reports_to",
                Contacts::Table,
                &["reports_to_id"],
                false,
            ),
            index(
                "idx_contact_influences_contact",
                ContactInfluences::Table,
                &["contact_id"],
                false,
            ),
            index(
                "uq_contact_relationships",
                ContactRelationships::Table,
                &["contact_id", "user_id"],
                true,
            ),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the org map migration cannot be reverted".into(),
        ))
    }
}

fn influences() -> TableCreateStatement {
    Table::create()
        .table(ContactInfluences::Table)
        .col(id(ContactInfluences::Id))
        .col(reference(ContactInfluences::ContactId))
        .col(ColumnDef::new(ContactInfluences::ProductId).big_integer())
        .col(ColumnDef::new(ContactInfluences::Vertical).text())
        .col(
            ColumnDef::new(ContactInfluences::Strength)
                .string_len(16)
                .not_null(),
        )
        .col(timestamp(ContactInfluences::CreatedAt))
        .foreign_key(&mut fk(
            ContactInfluences::Table,
            ContactInfluences::ContactId,
            Contacts::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ContactInfluences::Table,
            ContactInfluences::ProductId,
            Products::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn relationships() -> TableCreateStatement {
    Table::create()
        .table(ContactRelationships::Table)
        .col(id(ContactRelationships::Id))
        .col(reference(ContactRelationships::ContactId))
        .col(reference(ContactRelationships::UserId))
        .col(
            ColumnDef::new(ContactRelationships::Strength)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(ContactRelationships::LastInteractionAt).timestamp_with_time_zone())
        .col(
            ColumnDef::new(ContactRelationships::IsExecutiveSponsor)
                .boolean()
                .not_null(),
        )
        .col(timestamp(ContactRelationships::CreatedAt))
        .col(timestamp(ContactRelationships::UpdatedAt))
        .foreign_key(&mut fk(
            ContactRelationships::Table,
            ContactRelationships::ContactId,
            Contacts::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ContactRelationships::Table,
            ContactRelationships::UserId,
            Users::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Department,
    ReportsToId,
    VendorNotes,
}

#[derive(DeriveIden)]
enum ContactInfluences {
    Table,
    Id,
    ContactId,
    ProductId,
    Vertical,
    Strength,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContactRelationships {
    Table,
    Id,
    ContactId,
    UserId,
    Strength,
    LastInteractionAt,
    IsExecutiveSponsor,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}
