//! What a replica's cache of signed-in callers must forget: a change to a session, a user,
//! an API key, a partner (its own row, its verticals, a tier-two partner below it) or a
//! tier. Triggers announce each changed row, so no write path can forget to.
//!
//! PostgreSQL: the trigger NOTIFYs `partnergraph_credentials` with `schema:kind:id`, which
//! PostgreSQL delivers to every replica on commit. SQLite (one process owns the file): the
//! trigger appends to `credential_changes`, which the process reads after each commit; the
//! table keeps its newest 1,000 rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::id;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, kind, the column naming what changed, whether inserts count).
const WATCHED: [(&str, &str, &str, bool); 7] = [
    ("sessions", "s", "id", false),
    ("users", "u", "id", false),
    ("api_keys", "k", "id", false),
    ("tiers", "t", "id", false),
    ("partners", "p", "id", false),
    // A partner below another changes the upper one's `has_tier_two`.
    ("partners", "p", "parent_id", true),
    ("partner_verticals", "p", "partner_id", true),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => postgres(),
            _ => {
                manager.create_table(table()).await?;
                sqlite()
            }
        };
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(&statement)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the credential changes migration cannot be reverted".into(),
        ))
    }
}

fn postgres() -> Vec<String> {
    let mut statements = vec![
        "CREATE FUNCTION credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE changed text; \
         BEGIN \
           IF TG_OP <> 'INSERT' THEN \
             changed := to_jsonb(OLD) ->> TG_ARGV[1]; \
             IF changed IS NOT NULL THEN \
               PERFORM pg_notify('partnergraph_credentials', \
                 current_schema() || ':' || TG_ARGV[0] || ':' || changed); \
             END IF; \
           END IF; \
           IF TG_OP <> 'DELETE' THEN \
             changed := to_jsonb(NEW) ->> TG_ARGV[1]; \
             IF changed IS NOT NULL THEN \
               PERFORM pg_notify('partnergraph_credentials', \
                 current_schema() || ':' || TG_ARGV[0] || ':' || changed); \
             END IF; \
           END IF; \
           RETURN NULL; \
         END $$"
            .to_owned(),
    ];
    for (table, kind, column, inserts) in WATCHED {
        let events = if inserts {
            "INSERT OR UPDATE OR DELETE"
        } else {
            "UPDATE OR DELETE"
        };
        statements.push(format!(
            "CREATE TRIGGER {table}_{column}_credentials AFTER {events} ON {table} \
             FOR EACH ROW EXECUTE FUNCTION credentials_changed('{kind}', '{column}')"
        ));
    }
    statements
}

fn sqlite() -> Vec<String> {
    let mut statements = vec![
        "CREATE TRIGGER credential_changes_kept AFTER INSERT ON credential_changes \
         BEGIN DELETE FROM credential_changes WHERE id <= NEW.id - 1000; END"
            .to_owned(),
    ];
    for (table, kind, column, inserts) in WATCHED {
        let mut events = vec![("update", "OLD"), ("update", "NEW"), ("delete", "OLD")];
        if inserts {
            events.push(("insert", "NEW"));
        }
        for (event, row) in events {
            statements.push(format!(
                "CREATE TRIGGER {table}_{column}_{event}_{row}_credentials AFTER {event} ON {table} \
                 WHEN {row}.{column} IS NOT NULL \
                 BEGIN INSERT INTO credential_changes (kind, ref_id) VALUES ('{kind}', {row}.{column}); END",
                row = row.to_lowercase(),
            ));
        }
    }
    statements
}

fn table() -> TableCreateStatement {
    Table::create()
        .table(CredentialChanges::Table)
        .col(id(CredentialChanges::Id))
        .col(
            ColumnDef::new(CredentialChanges::Kind)
                .string_len(1)
                .not_null(),
        )
        .col(
            ColumnDef::new(CredentialChanges::RefId)
                .big_integer()
                .not_null(),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum CredentialChanges {
    Table,
    Id,
    Kind,
    RefId,
}
