//! The audit log: one row per mutation (who, in which role, by session or API key, from
//! which address, the operation and the objects it named, its outcome, when). Append-only:
//! a trigger refuses every UPDATE on both databases; rows leave only by the retention job's
//! DELETE.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table()).await?;
        for (name, cols) in [
            ("idx_audit_events_at", &["at"][..]),
            ("idx_audit_events_partner", &["partner_id", "id"]),
            ("idx_audit_events_actor", &["actor_id", "id"]),
        ] {
            manager
                .create_index(index(name, AuditEvents::Table, cols, false))
                .await?;
        }
        let refuse_updates = match manager.get_database_backend() {
            DbBackend::Postgres => vec![
                "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$"
                    .to_owned(),
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
                    .to_owned(),
            ],
            _ => vec![
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
                    .to_owned(),
            ],
        };
        for statement in refuse_updates {
            manager
                .get_connection()
                .execute_unprepared(&statement)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the audit log migration cannot be reverted".into(),
        ))
    }
}

fn text(name: AuditEvents) -> ColumnDef {
    ColumnDef::new(name).text().to_owned()
}

fn table() -> TableCreateStatement {
    Table::create()
        .table(AuditEvents::Table)
        .col(id(AuditEvents::Id))
        .col(timestamp(AuditEvents::At))
        .col(ColumnDef::new(AuditEvents::ActorId).big_integer())
        .col(ColumnDef::new(AuditEvents::ActorRole).string_len(32))
        .col(ColumnDef::new(AuditEvents::PartnerId).big_integer())
        .col(ColumnDef::new(AuditEvents::Via).string_len(16).not_null())
        .col(ColumnDef::new(AuditEvents::ApiKeyId).big_integer())
        .col(text(AuditEvents::ClientAddress))
        .col(text(AuditEvents::OperationName))
        .col(ColumnDef::new(AuditEvents::Fields).text().not_null())
        .col(ColumnDef::new(AuditEvents::ObjectIds).text().not_null())
        .col(
            ColumnDef::new(AuditEvents::Outcome)
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(AuditEvents::ErrorCodes).text().not_null())
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    ActorRole,
    PartnerId,
    Via,
    ApiKeyId,
    ClientAddress,
    OperationName,
    Fields,
    ObjectIds,
    Outcome,
    ErrorCodes,
}
