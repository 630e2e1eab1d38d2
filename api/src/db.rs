//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`). `search_path` selects a
/// PostgreSQL schema (used by the tests to give each test its own).
pub async fn connect(url: &str, search_path: Option<&str>) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // SQLite allows one writer; a small pool avoids piling up writers on its lock.
        // Each connection keeps 8 MiB of pages (SQLite's default is 2 MiB): the hot indexes
        // of a large program stay in memory instead of being re-read on every query.
        options
            .max_connections(4)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| o.pragma("cache_size", "-8192"));
    } else {
        options.max_connections(16);
    }
    if let Some(path) = search_path {
        options.set_schema_search_path(path.to_owned());
    }
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the writer; the setting is stored in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        db.execute_unprepared("PRAGMA foreign_keys=ON").await?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// `?` for SQLite, `$n` for PostgreSQL: for the few hand-written statements.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// A service result: the value, or the user errors that stopped it (nothing written).
pub type Outcome<T> = Result<T, Vec<crate::relay::UserError>>;

/// Ends a transaction by its result: commit when the work succeeded; roll back when it
/// stopped on user errors or failed. Rolling back explicitly matters: a dropped
/// transaction only queues its ROLLBACK, leaving the pooled connection idle in a
/// transaction (and holding its locks) until it happens to be reused.
pub async fn settle<T>(
    txn: sea_orm::DatabaseTransaction,
    result: crate::error::AppResult<Outcome<T>>,
) -> crate::error::AppResult<Outcome<T>> {
    match result {
        Ok(Ok(value)) => {
            txn.commit().await?;
            Ok(Ok(value))
        }
        other => {
            if let Err(err) = txn.rollback().await {
                tracing::warn!(error = %err, "rollback failed");
            }
            other
        }
    }
}

/// Begins a transaction that will write. On SQLite its first statement takes the write
/// lock (waiting up to the busy timeout) so that a later write can never fail with
/// "database is locked", as upgrading a reading transaction does under contention; the
/// statement changes nothing. PostgreSQL needs no such step.
pub async fn begin_write<C>(db: &C) -> Result<sea_orm::DatabaseTransaction, DbErr>
where
    C: sea_orm::TransactionTrait + ConnectionTrait,
{
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE settings SET value = value WHERE key = 'write-lock'")
            .await?;
    }
    Ok(txn)
}

/// How many SQL statements a connection pool has run: served at `/metrics`, read by the
/// benchmark (statements per request) and by the tests that pin a query's statement count.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Starts counting the statements of `db` and of every clone made from it afterwards
/// (clones made before do not count).
pub fn count_statements(db: &mut DatabaseConnection) -> StatementCounter {
    let counter = StatementCounter::default();
    let shared = counter.0.clone();
    db.set_metric_callback(move |info| {
        tracing::trace!(target: "partnergraph::sql", elapsed = ?info.elapsed, sql = %info.statement.sql);
        shared.fetch_add(1, Ordering::Relaxed);
    });
    counter
}
