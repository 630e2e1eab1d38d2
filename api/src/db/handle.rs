//! `Db`: what the request paths run their statements on.
//!
//! On PostgreSQL it is the pool. On SQLite, statements outside a transaction run on
//! connections this process keeps to itself (`Readers`) instead of sqlx's pool: sqlx hands a
//! pooled connection back through a spawned task that pings it first (one more hand-off
//! to the connection's thread and back, per statement), and on SQLite that is a large
//! share of a small statement's cost: a rebate statement (three statements) ran 20-37%
//! faster on these connections, alternating with the pool on the reference machine (the
//! heavier reads, whose statements cost more than the hand-off, within noise). On
//! PostgreSQL, leaving out the ping measured within noise, so PostgreSQL keeps the pool.
//! Transactions keep their own paths (`begin_write`: SQLite's writer, PostgreSQL's pool).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sea_query::Values;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Executor as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
};
use sea_query_binder::SqlxValues;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{count_statements, StatementCounter, WriteTxn, Writer};

/// The request paths' database: the pool, and on SQLite this process's reading connections.
#[derive(Clone)]
pub struct Db {
    pool: DatabaseConnection,
    readers: Option<Arc<Readers>>,
    statements: StatementCounter,
}

impl Db {
    /// The server's handle on `pool`: counts its statements; on SQLite, reads outside
    /// transactions on connections of its own (as many as the pool may open).
    pub fn serving(mut pool: DatabaseConnection) -> Db {
        let statements = count_statements(&mut pool);
        let readers = (pool.get_database_backend() == DbBackend::Sqlite).then(|| {
            let sqlx_pool = pool.get_sqlite_connection_pool();
            Arc::new(Readers::new(
                (*sqlx_pool.connect_options()).clone(),
                sqlx_pool.options().get_max_connections() as usize,
                sqlx_pool.options().get_acquire_timeout(),
            ))
        });
        Db {
            pool,
            readers,
            statements,
        }
    }

    /// A handle that runs everything on `pool` itself (the command line's one-off work).
    pub fn direct(pool: DatabaseConnection) -> Db {
        Db {
            pool,
            readers: None,
            statements: StatementCounter::default(),
        }
    }

    /// The pool behind the handle (transactions begin there).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// The statements run through this handle (and through clones of its pool made after
    /// it), on every path.
    pub fn statements(&self) -> StatementCounter {
        self.statements.clone()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let Some(readers) = &self.readers else {
            return self.pool.execute(stmt).await;
        };
        let mut lease = readers.lease().await?;
        self.statements.count(&stmt.sql);
        let done = bound(&stmt).execute(lease.connection()).await;
        lease.finished();
        done.map(ExecResult::from)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(e)))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let Some(readers) = &self.readers else {
            return self.pool.execute_unprepared(sql).await;
        };
        let mut lease = readers.lease().await?;
        self.statements.count(sql);
        let done = lease.connection().execute(sql).await;
        lease.finished();
        done.map(ExecResult::from)
            .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(e)))
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let Some(readers) = &self.readers else {
            return self.pool.query_one(stmt).await;
        };
        let mut lease = readers.lease().await?;
        self.statements.count(&stmt.sql);
        let row = bound(&stmt).fetch_optional(lease.connection()).await;
        lease.finished();
        row.map(|row| row.map(QueryResult::from))
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e)))
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Some(readers) = &self.readers else {
            return self.pool.query_all(stmt).await;
        };
        let mut lease = readers.lease().await?;
        self.statements.count(&stmt.sql);
        let rows = bound(&stmt).fetch_all(lease.connection()).await;
        lease.finished();
        rows.map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e)))
    }
}

#[async_trait::async_trait]
impl Writer for Db {
    async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        self.pool.begin_write().await
    }
}

/// `stmt` with its values bound, as sea-orm binds them.
fn bound(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Sqlite, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(&stmt.sql, SqlxValues(values))
}

/// SQLite connections for statements outside transactions, kept open and handed out one
/// statement at a time, newest returned first (its page cache is the warmest).
pub(crate) struct Readers {
    options: SqliteConnectOptions,
    permits: Semaphore,
    idle: Mutex<Vec<SqliteConnection>>,
    acquire_timeout: Duration,
}

impl Readers {
    pub(crate) fn new(
        options: SqliteConnectOptions,
        max: usize,
        acquire_timeout: Duration,
    ) -> Self {
        Readers {
            options,
            permits: Semaphore::new(max.max(1)),
            idle: Mutex::new(Vec::new()),
            acquire_timeout,
        }
    }

    /// A connection for one statement: an idle one, or a new one while fewer than the
    /// maximum are open; otherwise waits for one (up to the pool's acquire timeout).
    pub(crate) async fn lease(&self) -> Result<Lease<'_>, DbErr> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self
                .options
                .connect()
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?,
        };
        Ok(Lease {
            readers: self,
            connection: Some(connection),
            finished: false,
            _permit: permit,
        })
    }

    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One statement's connection. It goes back to the idle ones only if the statement ran to
/// its end; a statement abandoned halfway (its request cancelled) may have left the
/// connection mid-result, so that connection is closed instead.
pub(crate) struct Lease<'a> {
    readers: &'a Readers,
    connection: Option<SqliteConnection>,
    finished: bool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        self.connection
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    /// The statement ran to its end (with or without an error).
    pub(crate) fn finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if self.finished {
                self.readers
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(connection);
            }
        }
    }
}

impl StatementCounter {
    fn count(&self, sql: &str) {
        tracing::trace!(target: "partnergraph::sql", sql = %sql);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn readers(max: usize) -> Readers {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("options");
        Readers::new(options, max, Duration::from_millis(50))
    }

    #[tokio::test]
    async fn a_finished_statements_connection_is_reused() {
        let readers = readers(2);
        let mut lease = readers.lease().await.expect("lease");
        lease
            .connection()
            .execute("SELECT 1")
            .await
            .expect("select");
        lease.finished();
        drop(lease);
        assert_eq!(readers.idle_count(), 1);
        let lease = readers.lease().await.expect("second lease");
        assert_eq!(readers.idle_count(), 0, "the idle connection was taken");
        drop(lease);
    }

    #[tokio::test]
    async fn an_abandoned_statements_connection_is_closed_and_its_place_freed() {
        let readers = readers(1);
        let lease = readers.lease().await.expect("lease");
        drop(lease);
        assert_eq!(readers.idle_count(), 0);
        readers
            .lease()
            .await
            .expect("a new connection in its place");
    }

    #[tokio::test]
    async fn no_more_than_the_maximum_are_out_at_once() {
        let readers = readers(1);
        let held = readers.lease().await.expect("lease");
        let waited = readers.lease().await;
        assert!(
            matches!(
                waited,
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
            ),
            "a second lease waits, then times out"
        );
        drop(held);
        readers.lease().await.expect("free again");
    }
}
