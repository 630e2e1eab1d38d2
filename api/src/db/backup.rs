//! Backups of an embedded database.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// Copies a SQLite database to `to` while it serves: `VACUUM INTO` reads one consistent
/// snapshot (a read transaction, so writers go on) and writes a compact, complete file.
/// sea-orm has no backup call and sqlx does not expose SQLite's online backup API; this is
/// the statement SQLite documents for the purpose. The path is a bound parameter. PostgreSQL
/// is backed up with `pg_dump` (see the README).
pub async fn backup_sqlite(db: &DatabaseConnection, to: &std::path::Path) -> Result<(), String> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(
            "`backup` copies SQLite databases; back PostgreSQL up with pg_dump (see README)".into(),
        );
    }
    if to.exists() {
        return Err(format!(
            "{} exists; backup never overwrites a file",
            to.display()
        ));
    }
    let path = to
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", to.display()))?;
    db.execute(sea_orm::Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [path.into()],
    ))
    .await
    .map_err(|e| {
        // A half-written file is no backup.
        let _ = std::fs::remove_file(to);
        format!("backup to {} failed: {e}", to.display())
    })?;
    Ok(())
}
