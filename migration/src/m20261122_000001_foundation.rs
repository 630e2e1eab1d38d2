//! Foundation: settings, partner organisations (just enough for tenancy), users, sessions and
//! the login throttle.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(settings()).await?;
        manager.create_table(partners()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_partners_parent")
                    .table(Partners::Table)
                    .col(Partners::ParentId)
                    .to_owned(),
            )
            .await?;
        manager.create_table(users()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_partner")
                    .table(Users::Table)
                    .col(Users::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager.create_table(sessions()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager.create_table(login_attempts()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_attempts_key_time")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::ThrottleKey)
                    .col(LoginAttempts::AttemptedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LoginAttempts::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            Partners::Table.into_iden(),
            Settings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn id_column<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn settings() -> TableCreateStatement {
    Table::create()
        .table(Settings::Table)
        .col(
            ColumnDef::new(Settings::Key)
                .string_len(100)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(Settings::Value).text().not_null())
        .to_owned()
}

fn partners() -> TableCreateStatement {
    Table::create()
        .table(Partners::Table)
        .col(id_column(Partners::Id))
        .col(ColumnDef::new(Partners::Name).string_len(200).not_null())
        .col(
            ColumnDef::new(Partners::PartnerType)
                .string_len(32)
                .not_null(),
        )
        .col(ColumnDef::new(Partners::Status).string_len(32).not_null())
        .col(ColumnDef::new(Partners::Website).string_len(255))
        .col(ColumnDef::new(Partners::Country).string_len(2))
        .col(ColumnDef::new(Partners::ParentId).big_integer())
        .col(
            ColumnDef::new(Partners::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Partners::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Partners::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_partners_parent")
                .from(Partners::Table, Partners::ParentId)
                .to(Partners::Table, Partners::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .check(Expr::col(Partners::ParentId).ne(Expr::col(Partners::Id)))
        .to_owned()
}

fn users() -> TableCreateStatement {
    Table::create()
        .table(Users::Table)
        .col(id_column(Users::Id))
        .col(
            ColumnDef::new(Users::Email)
                .string_len(254)
                .not_null()
                .unique_key(),
        )
        .col(ColumnDef::new(Users::Name).string_len(200).not_null())
        .col(ColumnDef::new(Users::Role).string_len(32).not_null())
        .col(ColumnDef::new(Users::PartnerId).big_integer())
        .col(ColumnDef::new(Users::PasswordHash).string_len(255).not_null())
        .col(
            ColumnDef::new(Users::IsActive)
                .boolean()
                .not_null()
                .default(true),
        )
        .col(
            ColumnDef::new(Users::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Users::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_users_partner")
                .from(Users::Table, Users::PartnerId)
                .to(Partners::Table, Partners::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        // A partner user belongs to exactly one organisation; vendor staff to none.
        .check(Expr::cust(
            "(role = 'PARTNER' AND partner_id IS NOT NULL) OR (role <> 'PARTNER' AND partner_id IS NULL)",
        ))
        .to_owned()
}

fn sessions() -> TableCreateStatement {
    Table::create()
        .table(Sessions::Table)
        .col(id_column(Sessions::Id))
        .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
        .col(
            ColumnDef::new(Sessions::RefreshTokenHash)
                .string_len(64)
                .not_null()
                .unique_key(),
        )
        .col(ColumnDef::new(Sessions::PreviousTokenHash).string_len(64))
        .col(
            ColumnDef::new(Sessions::ExpiresAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(ColumnDef::new(Sessions::RevokedAt).timestamp_with_time_zone())
        .col(
            ColumnDef::new(Sessions::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Sessions::LastUsedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_sessions_user")
                .from(Sessions::Table, Sessions::UserId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn login_attempts() -> TableCreateStatement {
    Table::create()
        .table(LoginAttempts::Table)
        .col(id_column(LoginAttempts::Id))
        .col(
            ColumnDef::new(LoginAttempts::ThrottleKey)
                .string_len(300)
                .not_null(),
        )
        .col(
            ColumnDef::new(LoginAttempts::AttemptedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    Id,
    Name,
    PartnerType,
    Status,
    Website,
    Country,
    ParentId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    Role,
    PartnerId,
    PasswordHash,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    RefreshTokenHash,
    PreviousTokenHash,
    ExpiresAt,
    RevokedAt,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    ThrottleKey,
    AttemptedAt,
}
