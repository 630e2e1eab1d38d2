//! Enablement content: versioned assets with audiences, freshness dates, files, engagement
//! events, and native full-text search (FTS5 on SQLite, tsvector on PostgreSQL).

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, timestamp};
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_SEARCH: [&str; 4] = [
    "CREATE VIRTUAL TABLE content_search USING fts5(title, body, tags, tokenize = 'porter unicode61')",
    "CREATE TRIGGER content_search_insert AFTER INSERT ON contents BEGIN \
       INSERT INTO content_search(rowid, title, body, tags) VALUES (new.id, new.title, coalesce(new.body, ''), new.search_tags); END",
    "CREATE TRIGGER content_search_update AFTER UPDATE ON contents BEGIN \
       DELETE FROM content_search WHERE rowid = old.id; \
       INSERT INTO content_search(rowid, title, body, tags) VALUES (new.id, new.title, coalesce(new.body, ''), new.search_tags); END",
    "CREATE TRIGGER content_search_delete AFTER DELETE ON contents BEGIN \
       DELETE FROM content_search WHERE rowid = old.id; END",
];

const POSTGRES_SEARCH: [&str; 2] = [
    "ALTER TABLE contents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (\
       setweight(to_tsvector('english', coalesce(title, '')), 'A') || \
       setweight(to_tsvector('english', coalesce(search_tags, '')), 'B') || \
       setweight(to_tsvector('english', coalesce(body, '')), 'C')) STORED",
    "CREATE INDEX idx_contents_search ON contents USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            files(),
            contents(),
            versions(),
            labels(),
            audience(),
            events(),
        ] {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        let db = manager.get_connection();
        let search: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &POSTGRES_SEARCH,
            _ => &SQLITE_SEARCH,
        };
        for statement in search {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the content migration cannot be reverted".into(),
        ))
    }
}

fn files() -> TableCreateStatement {
    Table::create()
        .table(ContentFiles::Table)
        .col(id(ContentFiles::Id))
        .col(
            ColumnDef::new(ContentFiles::Sha256)
                .string_len(64)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentFiles::Filename)
                .string_len(255)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentFiles::ContentType)
                .string_len(100)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentFiles::SizeBytes)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentFiles::StorageKey)
                .string_len(255)
                .not_null(),
        )
        .col(ColumnDef::new(ContentFiles::UploadedById).big_integer())
        .col(timestamp(ContentFiles::CreatedAt))
        .foreign_key(&mut fk(
            ContentFiles::Table,
            ContentFiles::UploadedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn contents() -> TableCreateStatement {
    Table::create()
        .table(Contents::Table)
        .col(id(Contents::Id))
        .col(ColumnDef::new(Contents::Kind).string_len(32).not_null())
        .col(ColumnDef::new(Contents::Title).string_len(300).not_null())
        .col(ColumnDef::new(Contents::Body).text())
        .col(
            ColumnDef::new(Contents::SearchTags)
                .text()
                .not_null()
                .default(""),
        )
        .col(ColumnDef::new(Contents::FileId).big_integer())
        .col(
            ColumnDef::new(Contents::CurrentVersion)
                .integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(Contents::InternalOnly)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(ColumnDef::new(Contents::MinTierRank).integer())
        .col(ColumnDef::new(Contents::ReviewBy).date())
        .col(ColumnDef::new(Contents::ExpiresAt).timestamp_with_time_zone())
        .col(ColumnDef::new(Contents::CreatedById).big_integer())
        .col(timestamp(Contents::CreatedAt))
        .col(timestamp(Contents::UpdatedAt))
        .foreign_key(&mut fk(
            Contents::Table,
            Contents::FileId,
            ContentFiles::Table,
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            Contents::Table,
            Contents::CreatedById,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn versions() -> TableCreateStatement {
    Table::create()
        .table(ContentVersions::Table)
        .col(id(ContentVersions::Id))
        .col(
            ColumnDef::new(ContentVersions::ContentId)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentVersions::Version)
                .integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentVersions::Kind)
                .string_len(32)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentVersions::Title)
                .string_len(300)
                .not_null(),
        )
        .col(ColumnDef::new(ContentVersions::Body).text())
        .col(ColumnDef::new(ContentVersions::Labels).text().not_null())
        .col(ColumnDef::new(ContentVersions::FileId).big_integer())
        .col(ColumnDef::new(ContentVersions::ChangeNote).text())
        .col(ColumnDef::new(ContentVersions::AuthorId).big_integer())
        .col(timestamp(ContentVersions::CreatedAt))
        .foreign_key(&mut fk(
            ContentVersions::Table,
            ContentVersions::ContentId,
            Contents::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ContentVersions::Table,
            ContentVersions::FileId,
            ContentFiles::Table,
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut fk(
            ContentVersions::Table,
            ContentVersions::AuthorId,
            Users::Table,
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

fn labels() -> TableCreateStatement {
    Table::create()
        .table(ContentLabels::Table)
        .col(id(ContentLabels::Id))
        .col(
            ColumnDef::new(ContentLabels::ContentId)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentLabels::Dimension)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentLabels::Value)
                .string_len(100)
                .not_null(),
        )
        .foreign_key(&mut fk(
            ContentLabels::Table,
            ContentLabels::ContentId,
            Contents::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn audience() -> TableCreateStatement {
    Table::create()
        .table(ContentAudience::Table)
        .col(id(ContentAudience::Id))
        .col(
            ColumnDef::new(ContentAudience::ContentId)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentAudience::Dimension)
                .string_len(16)
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentAudience::Value)
                .string_len(100)
                .not_null(),
        )
        .foreign_key(&mut fk(
            ContentAudience::Table,
            ContentAudience::ContentId,
            Contents::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn events() -> TableCreateStatement {
    Table::create()
        .table(ContentEvents::Table)
        .col(id(ContentEvents::Id))
        .col(
            ColumnDef::new(ContentEvents::ContentId)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(ContentEvents::UserId)
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(ContentEvents::PartnerId).big_integer())
        .col(
            ColumnDef::new(ContentEvents::Kind)
                .string_len(16)
                .not_null(),
        )
        .col(timestamp(ContentEvents::CreatedAt))
        .foreign_key(&mut fk(
            ContentEvents::Table,
            ContentEvents::ContentId,
            Contents::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ContentEvents::Table,
            ContentEvents::UserId,
            Users::Table,
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(&mut fk(
            ContentEvents::Table,
            ContentEvents::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "uq_content_versions",
            ContentVersions::Table,
            &["content_id", "version"],
            true,
        ),
        index(
            "idx_content_labels_content",
            ContentLabels::Table,
            &["content_id"],
            false,
        ),
        index(
            "idx_content_labels_value",
            ContentLabels::Table,
            &["dimension", "value"],
            false,
        ),
        index(
            "idx_content_audience_content",
            ContentAudience::Table,
            &["content_id", "dimension"],
            false,
        ),
        index(
            "idx_contents_updated",
            Contents::Table,
            &["updated_at", "id"],
            false,
        ),
        index(
            "idx_contents_review",
            Contents::Table,
            &["review_by"],
            false,
        ),
        index(
            "idx_content_events_content",
            ContentEvents::Table,
            &["content_id", "created_at"],
            false,
        ),
        index(
            "idx_content_events_partner",
            ContentEvents::Table,
            &["partner_id", "created_at"],
            false,
        ),
        index(
            "idx_content_files_sha",
            ContentFiles::Table,
            &["sha256"],
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
enum ContentFiles {
    Table,
    Id,
    Sha256,
    Filename,
    ContentType,
    SizeBytes,
    StorageKey,
    UploadedById,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contents {
    Table,
    Id,
    Kind,
    Title,
    Body,
    SearchTags,
    FileId,
    CurrentVersion,
    InternalOnly,
    MinTierRank,
    ReviewBy,
    ExpiresAt,
    CreatedById,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContentVersions {
    Table,
    Id,
    ContentId,
    Version,
    Kind,
    Title,
    Body,
    Labels,
    FileId,
    ChangeNote,
    AuthorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContentLabels {
    Table,
    Id,
    ContentId,
    Dimension,
    Value,
}

#[derive(DeriveIden)]
enum ContentAudience {
    Table,
    Id,
    ContentId,
    Dimension,
    Value,
}

#[derive(DeriveIden)]
enum ContentEvents {
    Table,
    Id,
    ContentId,
    UserId,
    PartnerId,
    Kind,
    CreatedAt,
}
