//! The partner program: full partner profiles with status history, tiers, contacts,
//! recruitment scoring, onboarding checklists, training and certifications.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns added to existing tables. Inline `REFERENCES` in `ADD COLUMN` is the one form of
/// foreign key both SQLite and PostgreSQL accept on an existing table.
const ALTERS: [&str; 7] = [
    "ALTER TABLE partners ADD COLUMN region VARCHAR(32)",
    "ALTER TABLE partners ADD COLUMN tier_id BIGINT REFERENCES tiers(id)",
    "ALTER TABLE partners ADD COLUMN channel_manager_id BIGINT REFERENCES users(id)",
    "ALTER TABLE partners ADD COLUMN partnership_started_on DATE",
    "ALTER TABLE partners ADD COLUMN status_changed_at TIMESTAMP WITH TIME ZONE",
    "ALTER TABLE users ADD COLUMN is_org_admin BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP WITH TIME ZONE",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(tiers()).await?;
        let db = manager.get_connection();
        for statement in ALTERS {
            db.execute_unprepared(statement).await?;
        }
        for table in [
            partner_domains(),
            partner_verticals(),
            partner_status_history(),
            partner_tier_history(),
            contacts(),
            fit_criteria(),
            prospects(),
            prospect_ratings(),
            onboarding_template_items(),
            onboarding_items(),
            courses(),
            certification_programs(),
            certification_program_courses(),
            course_completions(),
            certifications(),
        ] {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop the added columns portably; restore from a backup instead.
        Err(DbErr::Migration(
            "the partner program migration cannot be reverted".into(),
        ))
    }
}

fn tiers() -> TableCreateStatement {
    Table::create()
        .table(Tiers::Table)
        .col(id(Tiers::Id))
        .col(
            ColumnDef::new(Tiers::Name)
                .string_len(100)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Tiers::Rank)
                .integer()
                .not_null()
                .unique_key(),
        )
        .col(ColumnDef::new(Tiers::Description).text())
        .col(ColumnDef::new(Tiers::ProtectionDays).integer())
        .col(
            ColumnDef::new(Tiers::RebateEligible)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(
            ColumnDef::new(Tiers::MdfEligible)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(
            ColumnDef::new(Tiers::MinWonRevenueMinor)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(ColumnDef::new(Tiers::Currency).string_len(3).not_null())
        .col(
            ColumnDef::new(Tiers::MinApprovedRegistrations)
                .integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(Tiers::MinWonDeals)
                .integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(Tiers::MinActiveCertifications)
                .integer()
                .not_null()
                .default(0),
        )
        .col(
            ColumnDef::new(Tiers::CriteriaPeriodMonths)
                .integer()
                .not_null()
                .default(12),
        )
        .col(timestamp(Tiers::CreatedAt))
        .col(timestamp(Tiers::UpdatedAt))
        .col(
            ColumnDef::new(Tiers::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .check(Expr::col(Tiers::Rank).gte(1))
        .check(Expr::col(Tiers::MinWonRevenueMinor).gte(0))
        .to_owned()
}

fn partner_domains() -> TableCreateStatement {
    Table::create()
        .table(PartnerDomains::Table)
        .col(id(PartnerDomains::Id))
        .col(reference(PartnerDomains::PartnerId))
        .col(
            ColumnDef::new(PartnerDomains::Domain)
                .string_len(253)
                .not_null()
                .unique_key(),
        )
        .foreign_key(&mut fk(
            PartnerDomains::Table,
            PartnerDomains::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn partner_verticals() -> TableCreateStatement {
    Table::create()
        .table(PartnerVerticals::Table)
        .col(id(PartnerVerticals::Id))
        .col(reference(PartnerVerticals::PartnerId))
        .col(
            ColumnDef::new(PartnerVerticals::Vertical)
                .string_len(64)
                .not_null(),
        )
        .foreign_key(&mut fk(
            PartnerVerticals::Table,
            PartnerVerticals::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn partner_status_history() -> TableCreateStatement {
    Table::create()
        .table(PartnerStatusHistory::Table)
        .col(id(PartnerStatusHistory::Id))
        .col(reference(PartnerStatusHistory::PartnerId))
        .col(ColumnDef::new(PartnerStatusHistory::FromStatus).string_len(32))
        .col(
            ColumnDef::new(PartnerStatusHistory::ToStatus)
                .string_len(32)
                .not_null(),
        )
        .col(ColumnDef::new(PartnerStatusHistory::ActorId).big_integer())
        .col(ColumnDef::new(PartnerStatusHistory::Reason).text())
        .col(timestamp(PartnerStatusHistory::CreatedAt))
        .foreign_key(&mut fk(
            PartnerStatusHistory::Table,
            PartnerStatusHistory::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            PartnerStatusHistory::Table,
            PartnerStatusHistory::ActorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn partner_tier_history() -> TableCreateStatement {
    Table::create()
        .table(PartnerTierHistory::Table)
        .col(id(PartnerTierHistory::Id))
        .col(reference(PartnerTierHistory::PartnerId))
        .col(ColumnDef::new(PartnerTierHistory::FromTierId).big_integer())
        .col(ColumnDef::new(PartnerTierHistory::ToTierId).big_integer())
        .col(ColumnDef::new(PartnerTierHistory::ActorId).big_integer())
        .col(ColumnDef::new(PartnerTierHistory::Reason).text())
        .col(timestamp(PartnerTierHistory::CreatedAt))
        .foreign_key(&mut fk(
            PartnerTierHistory::Table,
            PartnerTierHistory::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            PartnerTierHistory::Table,
            PartnerTierHistory::FromTierId,
            Tiers::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            PartnerTierHistory::Table,
            PartnerTierHistory::ToTierId,
            Tiers::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            PartnerTierHistory::Table,
            PartnerTierHistory::ActorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn contacts() -> TableCreateStatement {
    Table::create()
        .table(Contacts::Table)
        .col(id(Contacts::Id))
        .col(reference(Contacts::PartnerId))
        .col(ColumnDef::new(Contacts::Name).string_len(200).not_null())
        .col(ColumnDef::new(Contacts::Email).string_len(254))
        .col(ColumnDef::new(Contacts::Phone).string_len(50))
        .col(ColumnDef::new(Contacts::Title).string_len(200))
        .col(ColumnDef::new(Contacts::DealRole).string_len(32).not_null())
        .col(
            ColumnDef::new(Contacts::Influence)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(Contacts::IsExecutiveSponsor)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(ColumnDef::new(Contacts::Notes).text())
        .col(timestamp(Contacts::CreatedAt))
        .col(timestamp(Contacts::UpdatedAt))
        .foreign_key(&mut fk(
            Contacts::Table,
            Contacts::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn fit_criteria() -> TableCreateStatement {
    Table::create()
        .table(FitCriteria::Table)
        .col(id(FitCriteria::Id))
        .col(
            ColumnDef::new(FitCriteria::Key)
                .string_len(64)
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(FitCriteria::Label)
                .string_len(200)
                .not_null(),
        )
        .col(ColumnDef::new(FitCriteria::Description).text())
        .col(ColumnDef::new(FitCriteria::Weight).integer().not_null())
        .col(ColumnDef::new(FitCriteria::Position).integer().not_null())
        .check(Expr::col(FitCriteria::Weight).gte(0))
        .to_owned()
}

fn prospects() -> TableCreateStatement {
    Table::create()
        .table(Prospects::Table)
        .col(id(Prospects::Id))
        .col(ColumnDef::new(Prospects::Name).string_len(200).not_null())
        .col(ColumnDef::new(Prospects::Website).string_len(255))
        .col(
            ColumnDef::new(Prospects::PartnerType)
                .string_len(32)
                .not_null(),
        )
        .col(ColumnDef::new(Prospects::Country).string_len(2))
        .col(ColumnDef::new(Prospects::Region).string_len(32))
        .col(ColumnDef::new(Prospects::Notes).text())
        .col(ColumnDef::new(Prospects::Status).string_len(16).not_null())
        // Hundredths of a point (0..=10000), kept in step with ratings and weights so the
        // ranked list sorts in SQL.
        .col(
            ColumnDef::new(Prospects::FitScoreHundredths)
                .integer()
                .not_null()
                .default(0),
        )
        .col(ColumnDef::new(Prospects::ConvertedPartnerId).big_integer())
        .col(timestamp(Prospects::CreatedAt))
        .col(timestamp(Prospects::UpdatedAt))
        .foreign_key(&mut fk(
            Prospects::Table,
            Prospects::ConvertedPartnerId,
            Partners::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn prospect_ratings() -> TableCreateStatement {
    Table::create()
        .table(ProspectRatings::Table)
        .col(reference(ProspectRatings::ProspectId))
        .col(reference(ProspectRatings::CriterionId))
        .col(ColumnDef::new(ProspectRatings::Value).integer().not_null())
        .primary_key(
            Index::create()
                .col(ProspectRatings::ProspectId)
                .col(ProspectRatings::CriterionId),
        )
        .foreign_key(&mut fk(
            ProspectRatings::Table,
            ProspectRatings::ProspectId,
            Prospects::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ProspectRatings::Table,
            ProspectRatings::CriterionId,
            FitCriteria::Table,
            ForeignKeyAction::Cascade,
        ))
        .check(Expr::col(ProspectRatings::Value).between(0, 10))
        .to_owned()
}

fn onboarding_template_items() -> TableCreateStatement {
    Table::create()
        .table(OnboardingTemplateItems::Table)
        .col(id(OnboardingTemplateItems::Id))
        .col(
            ColumnDef::new(OnboardingTemplateItems::Title)
                .string_len(200)
                .not_null(),
        )
        .col(ColumnDef::new(OnboardingTemplateItems::Description).text())
        .col(
            ColumnDef::new(OnboardingTemplateItems::Position)
                .integer()
                .not_null(),
        )
        .to_owned()
}

fn onboarding_items() -> TableCreateStatement {
    Table::create()
        .table(OnboardingItems::Table)
        .col(id(OnboardingItems::Id))
        .col(reference(OnboardingItems::PartnerId))
        .col(
            ColumnDef::new(OnboardingItems::Title)
                .string_len(200)
                .not_null(),
        )
        .col(ColumnDef::new(OnboardingItems::Description).text())
        .col(
            ColumnDef::new(OnboardingItems::Position)
                .integer()
                .not_null(),
        )
        .col(ColumnDef::new(OnboardingItems::CompletedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(OnboardingItems::CompletedById).big_integer())
        .col(timestamp(OnboardingItems::CreatedAt))
        .foreign_key(&mut fk(
            OnboardingItems::Table,
            OnboardingItems::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            OnboardingItems::Table,
            OnboardingItems::CompletedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn courses() -> TableCreateStatement {
    Table::create()
        .table(Courses::Table)
        .col(id(Courses::Id))
        .col(
            ColumnDef::new(Courses::Title)
                .string_len(200)
                .not_null()
                .unique_key(),
        )
        .col(ColumnDef::new(Courses::Description).text())
        .col(ColumnDef::new(Courses::DurationMinutes).integer())
        .col(timestamp(Courses::CreatedAt))
        .to_owned()
}

fn certification_programs() -> TableCreateStatement {
    Table::create()
        .table(CertificationPrograms::Table)
        .col(id(CertificationPrograms::Id))
        .col(
            ColumnDef::new(CertificationPrograms::Name)
                .string_len(200)
                .not_null()
                .unique_key(),
        )
        .col(ColumnDef::new(CertificationPrograms::Description).text())
        .col(
            ColumnDef::new(CertificationPrograms::ValidityMonths)
                .integer()
                .not_null(),
        )
        .col(timestamp(CertificationPrograms::CreatedAt))
        .check(Expr::col(CertificationPrograms::ValidityMonths).gte(1))
        .to_owned()
}

fn certification_program_courses() -> TableCreateStatement {
    Table::create()
        .table(CertificationProgramCourses::Table)
        .col(reference(CertificationProgramCourses::ProgramId))
        .col(reference(CertificationProgramCourses::CourseId))
        .primary_key(
            Index::create()
                .col(CertificationProgramCourses::ProgramId)
                .col(CertificationProgramCourses::CourseId),
        )
        .foreign_key(&mut fk(
            CertificationProgramCourses::Table,
            CertificationProgramCourses::ProgramId,
            CertificationPrograms::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            CertificationProgramCourses::Table,
            CertificationProgramCourses::CourseId,
            Courses::Table,
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

fn course_completions() -> TableCreateStatement {
    Table::create()
        .table(CourseCompletions::Table)
        .col(id(CourseCompletions::Id))
        .col(reference(CourseCompletions::UserId))
        .col(reference(CourseCompletions::CourseId))
        .col(timestamp(CourseCompletions::CompletedAt))
        .col(ColumnDef::new(CourseCompletions::RecordedById).big_integer())
        .foreign_key(&mut fk(
            CourseCompletions::Table,
            CourseCompletions::UserId,
            Users::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            CourseCompletions::Table,
            CourseCompletions::CourseId,
            Courses::Table,
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut fk(
            CourseCompletions::Table,
            CourseCompletions::RecordedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn certifications() -> TableCreateStatement {
    Table::create()
        .table(Certifications::Table)
        .col(id(Certifications::Id))
        .col(reference(Certifications::UserId))
        .col(reference(Certifications::ProgramId))
        .col(ColumnDef::new(Certifications::AwardedAt).timestamp_with_time_zone())
        .col(ColumnDef::new(Certifications::ExpiresAt).timestamp_with_time_zone())
        .col(timestamp(Certifications::CreatedAt))
        .col(timestamp(Certifications::UpdatedAt))
        .foreign_key(&mut fk(
            Certifications::Table,
            Certifications::UserId,
            Users::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            Certifications::Table,
            Certifications::ProgramId,
            CertificationPrograms::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("idx_partners_tier", Partners::Table, &["tier_id"], false),
        index("idx_partners_status", Partners::Table, &["status"], false),
        index(
            "idx_partner_domains_partner",
            PartnerDomains::Table,
            &["partner_id"],
            false,
        ),
        index(
            "uq_partner_verticals",
            PartnerVerticals::Table,
            &["partner_id", "vertical"],
            true,
        ),
        index(
            "idx_partner_verticals_vertical",
            PartnerVerticals::Table,
            &["vertical"],
            false,
        ),
        index(
            "idx_partner_status_history_partner",
            PartnerStatusHistory::Table,
            &["partner_id", "id"],
            false,
        ),
        index(
            "idx_partner_tier_history_partner",
            PartnerTierHistory::Table,
            &["partner_id", "id"],
            false,
        ),
        index(
            "idx_contacts_partner",
            Contacts::Table,
            &["partner_id"],
            false,
        ),
        index(
            "idx_prospects_rank",
            Prospects::Table,
            &["fit_score_hundredths", "id"],
            false,
        ),
        index(
            "idx_onboarding_items_partner",
            OnboardingItems::Table,
            &["partner_id", "position"],
            false,
        ),
        index(
            "uq_course_completions",
            CourseCompletions::Table,
            &["user_id", "course_id"],
            true,
        ),
        index(
            "uq_certifications",
            Certifications::Table,
            &["user_id", "program_id"],
            true,
        ),
        index(
            "idx_certifications_program",
            Certifications::Table,
            &["program_id"],
            false,
        ),
    ]
}

#[derive(DeriveIden)]
enum Partners {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Tiers {
    Table,
    Id,
    Name,
    Rank,
    Description,
    ProtectionDays,
    RebateEligible,
    MdfEligible,
    MinWonRevenueMinor,
    Currency,
    MinApprovedRegistrations,
    MinWonDeals,
    MinActiveCertifications,
    CriteriaPeriodMonths,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum PartnerDomains {
    Table,
    Id,
    PartnerId,
    Domain,
}

#[derive(DeriveIden)]
enum PartnerVerticals {
    Table,
    Id,
    PartnerId,
    Vertical,
}

#[derive(DeriveIden)]
enum PartnerStatusHistory {
    Table,
    Id,
    PartnerId,
    FromStatus,
    ToStatus,
    ActorId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PartnerTierHistory {
    Table,
    Id,
    PartnerId,
    FromTierId,
    ToTierId,
    ActorId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
    PartnerId,
    Name,
    Email,
    Phone,
    Title,
    DealRole,
    Influence,
    IsExecutiveSponsor,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FitCriteria {
    Table,
    Id,
    Key,
    Label,
    Description,
    Weight,
    Position,
}

#[derive(DeriveIden)]
enum Prospects {
    Table,
    Id,
    Name,
    Website,
    PartnerType,
    Country,
    Region,
    Notes,
    Status,
    FitScoreHundredths,
    ConvertedPartnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProspectRatings {
    Table,
    ProspectId,
    CriterionId,
    Value,
}

#[derive(DeriveIden)]
enum OnboardingTemplateItems {
    Table,
    Id,
    Title,
    Description,
    Position,
}

#[derive(DeriveIden)]
enum OnboardingItems {
    Table,
    Id,
    PartnerId,
    Title,
    Description,
    Position,
    CompletedAt,
    CompletedById,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    Title,
    Description,
    DurationMinutes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CertificationPrograms {
    Table,
    Id,
    Name,
    Description,
    ValidityMonths,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CertificationProgramCourses {
    Table,
    ProgramId,
    CourseId,
}

#[derive(DeriveIden)]
enum CourseCompletions {
    Table,
    Id,
    UserId,
    CourseId,
    CompletedAt,
    RecordedById,
}

#[derive(DeriveIden)]
enum Certifications {
    Table,
    Id,
    UserId,
    ProgramId,
    AwardedAt,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}
