//! What a joint business plan holds beyond its revenue targets: the accounts pursued
//! together, the enablement the partner needs, the executive sponsors of both sides and
//! weighted objectives; the conversation on it (comments and proposed changes) and its
//! quarterly reviews. Each list keeps the order it was given in (`position`).

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            accounts(),
            needs(),
            sponsors(),
            objectives(),
            comments(),
            reviews(),
        ] {
            manager.create_table(table).await?;
        }
        for (name, table, cols, unique) in [
            (
                "idx_plan_accounts_plan",
                Item::PlanAccounts,
                &["plan_id", "position"][..],
                false,
            ),
            (
                "idx_plan_needs_plan",
                Item::PlanNeeds,
                &["plan_id", "position"],
                false,
            ),
            (
                "idx_plan_sponsors_plan",
                Item::PlanSponsors,
                &["plan_id", "position"],
                false,
            ),
            (
                "idx_plan_objectives_plan",
                Item::PlanObjectives,
                &["plan_id", "position"],
                false,
            ),
            (
                "idx_plan_comments_plan",
                Item::PlanComments,
                &["plan_id", "id"],
                false,
            ),
            (
                "uq_plan_reviews_quarter",
                Item::PlanReviews,
                &["plan_id", "quarter"],
                true,
            ),
        ] {
            manager
                .create_index(index(name, table, cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the plan contents migration cannot be reverted".into(),
        ))
    }
}

fn text(name: Item) -> ColumnDef {
    ColumnDef::new(name).text().to_owned()
}

fn required_text(name: Item) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn short(name: Item, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().to_owned()
}

fn optional_ref(name: Item) -> ColumnDef {
    ColumnDef::new(name).big_integer().to_owned()
}

fn position() -> ColumnDef {
    ColumnDef::new(Item::Position)
        .integer()
        .not_null()
        .to_owned()
}

/// A table of a plan's rows, removed with the plan.
fn of_plan(table: Item) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(id(Item::Id))
        .col(reference(Item::PlanId))
        .foreign_key(&mut fk(
            table,
            Item::PlanId,
            Item::JointBusinessPlans,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

/// Existing accounts (copied name and web address, so a removed account keeps its row) or
/// named prospects, with the keys the partner's registrations are matched on.
fn accounts() -> TableCreateStatement {
    of_plan(Item::PlanAccounts)
        .col(position())
        .col(optional_ref(Item::AccountId))
        .col(required_text(Item::Name))
        .col(text(Item::Domain))
        .col(ColumnDef::new(Item::Country).string_len(2))
        .col(required_text(Item::NameKey))
        .col(text(Item::Identity))
        .foreign_key(&mut fk(
            Item::PlanAccounts,
            Item::AccountId,
            Item::Accounts,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

/// A course, certification program or content item the partner's people need, how many of
/// them, who owns it on either side and by when.
fn needs() -> TableCreateStatement {
    let mut table = of_plan(Item::PlanNeeds);
    table
        .col(position())
        .col(short(Item::Kind, 16))
        .col(optional_ref(Item::CourseId))
        .col(optional_ref(Item::ProgramId))
        .col(optional_ref(Item::ContentId))
        .col(ColumnDef::new(Item::RequiredCount).integer().not_null())
        .col(optional_ref(Item::OwnerContactId))
        .col(optional_ref(Item::OwnerUserId))
        .col(ColumnDef::new(Item::DueDate).date());
    for (column, to, action) in [
        (Item::CourseId, Item::Courses, ForeignKeyAction::Cascade),
        (
            Item::ProgramId,
            Item::CertificationPrograms,
            ForeignKeyAction::Cascade,
        ),
        (Item::ContentId, Item::Content, ForeignKeyAction::Cascade),
        (
            Item::OwnerContactId,
            Item::Contacts,
            ForeignKeyAction::SetNull,
        ),
        (Item::OwnerUserId, Item::Users, ForeignKeyAction::SetNull),
    ] {
        table.foreign_key(&mut fk(Item::PlanNeeds, column, to, action));
    }
    table.to_owned()
}

/// An executive sponsor: a vendor user or a contact of the partner's org map.
fn sponsors() -> TableCreateStatement {
    of_plan(Item::PlanSponsors)
        .col(position())
        .col(short(Item::Side, 16))
        .col(optional_ref(Item::UserId))
        .col(optional_ref(Item::ContactId))
        .col(text(Item::Role))
        .foreign_key(&mut fk(
            Item::PlanSponsors,
            Item::UserId,
            Item::Users,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            Item::PlanSponsors,
            Item::ContactId,
            Item::Contacts,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

/// A weighted objective on a computed measure: the target is minor units of `currency`
/// for money measures, a count otherwise.
fn objectives() -> TableCreateStatement {
    of_plan(Item::PlanObjectives)
        .col(position())
        .col(required_text(Item::Name))
        .col(short(Item::Metric, 32))
        .col(ColumnDef::new(Item::TargetValue).big_integer().not_null())
        .col(ColumnDef::new(Item::Currency).string_len(3))
        .col(ColumnDef::new(Item::Weight).integer().not_null())
        .to_owned()
}

/// Either side's comments; a comment may carry a proposed change (JSON), which a channel
/// manager accepts (it is applied) or declines.
fn comments() -> TableCreateStatement {
    of_plan(Item::PlanComments)
        .col(reference(Item::AuthorId))
        .col(required_text(Item::Body))
        .col(text(Item::ProposedChanges))
        .col(ColumnDef::new(Item::ProposalStatus).string_len(16))
        .col(optional_ref(Item::ResolvedById))
        .col(ColumnDef::new(Item::ResolvedAt).timestamp_with_time_zone())
        .col(text(Item::ResolutionNote))
        .col(timestamp(Item::CreatedAt))
        .to_owned()
}

/// A quarter's review: attainment as it was then (JSON snapshot), both sides' notes and the
/// next quarter's adjusted targets (JSON, from and to).
fn reviews() -> TableCreateStatement {
    of_plan(Item::PlanReviews)
        .col(short(Item::Quarter, 8))
        .col(required_text(Item::Snapshot))
        .col(text(Item::VendorNotes))
        .col(text(Item::Adjustments))
        .col(required_text(Item::TargetChanges))
        .col(reference(Item::RecordedById))
        .col(timestamp(Item::RecordedAt))
        .col(text(Item::PartnerNotes))
        .col(optional_ref(Item::PartnerNotedById))
        .col(ColumnDef::new(Item::PartnerNotedAt).timestamp_with_time_zone())
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Item {
    #[sea_orm(iden = "joint_business_plan_accounts")]
    PlanAccounts,
    #[sea_orm(iden = "joint_business_plan_needs")]
    PlanNeeds,
    #[sea_orm(iden = "joint_business_plan_sponsors")]
    PlanSponsors,
    #[sea_orm(iden = "joint_business_plan_objectives")]
    PlanObjectives,
    #[sea_orm(iden = "joint_business_plan_comments")]
    PlanComments,
    #[sea_orm(iden = "joint_business_plan_reviews")]
    PlanReviews,
    JointBusinessPlans,
    Accounts,
    Courses,
    CertificationPrograms,
    #[sea_orm(iden = "contents")]
    Content,
    Contacts,
    Users,
    Id,
    PlanId,
    Position,
    AccountId,
    Name,
    Domain,
    Country,
    NameKey,
    Identity,
    Kind,
    CourseId,
    ProgramId,
    ContentId,
    RequiredCount,
    OwnerContactId,
    OwnerUserId,
    DueDate,
    Side,
    UserId,
    ContactId,
    Role,
    Metric,
    TargetValue,
    Currency,
    Weight,
    AuthorId,
    Body,
    ProposedChanges,
    ProposalStatus,
    ResolvedById,
    ResolvedAt,
    ResolutionNote,
    CreatedAt,
    Quarter,
    Snapshot,
    VendorNotes,
    Adjustments,
    TargetChanges,
    RecordedById,
    RecordedAt,
    PartnerNotes,
    PartnerNotedById,
    PartnerNotedAt,
}
