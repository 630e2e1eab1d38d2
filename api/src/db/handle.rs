//! `Db`: what the request paths run their statements on.
//!
//! Statements outside a transaction run on connections this process keeps to itself
//! (`Leased`) instead of sqlx's pool: sqlx hands a pooled connection back through a spawned
//! task that pings it first, one more hand-off per statement and, on PostgreSQL, one more
//! round trip that wakes the database's backend too. On SQLite a rebate statement (three
//! statements) ran 20-37% faster on these connections, alternating with the pool on the
//! reference machine. On PostgreSQL a profile of the content search under load had 9% of
//! the server's CPU in that ping (see the README's Performance section for the measurement).
//! Transactions keep their own paths (`begin_write`: SQLite's writer, PostgreSQL's pool).
//!
//! A PostgreSQL statement that writes outside a transaction (`Db::write_one`) holds its
//! connection until its commit is on disk. Writes therefore lease under permits of their
//! own (`Purpose::Write`), from the same connections: with one set of four
//! permits for both, 15-20% of the reference machine's CPU stood idle under 32 clients
//! registering deals (the waiting commits held the permits the next statements needed);
//! six permits for both cut the idle time but slowed the read scenarios (more backends
//! contending for two cores).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::sqlx::{self, ConnectOptions as _, Connection, Executor as _, IntoArguments};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement,
};
use sea_query_binder::SqlxValues;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::{count_statements, StatementCounter, WriteTxn, Writer};

/// The request paths' database: the pool (transactions) and this process's own
/// connections (everything else).
#[derive(Clone)]
pub struct Db {
    pool: DatabaseConnection,
    leased: Option<Arc<Leased>>,
    statements: StatementCounter,
    background: StatementCounter,
}

/// Connections of the pool's backend that this process keeps to itself, opened with the
/// pool's own options and leased one statement at a time.
enum Leased {
    Sqlite(Connections<SqliteConnection>),
    Postgres(Connections<PgConnection>),
}

impl Leased {
    fn of(pool: &DatabaseConnection) -> Option<Leased> {
        match pool.get_database_backend() {
            DbBackend::Sqlite => Some(Leased::Sqlite(Connections::like(
                pool.get_sqlite_connection_pool(),
            ))),
            DbBackend::Postgres => Some(Leased::Postgres(Connections::like(
                pool.get_postgres_connection_pool(),
            ))),
            DbBackend::MySql => None,
        }
    }
}

impl Db {
    /// The server's handle on `pool`: counts its statements and reads outside transactions
    /// on connections of its own (as many as the pool may open).
    pub fn serving(mut pool: DatabaseConnection) -> Db {
        let statements = count_statements(&mut pool);
        let leased = Leased::of(&pool).map(Arc::new);
        Db {
            pool,
            leased,
            statements,
            background: StatementCounter::default(),
        }
    }

    /// A handle that runs everything on `pool` itself (the command line's one-off work).
    pub fn direct(pool: DatabaseConnection) -> Db {
        Db {
            pool,
            leased: None,
            statements: StatementCounter::default(),
            background: StatementCounter::default(),
        }
    }

    /// The pool behind the handle (transactions begin there).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Whether a statement runs on both kinds of connection requests use: this process's
    /// own (most statements) and the pool's (transactions).
    pub async fn ready(&self) -> Result<(), DbErr> {
        let backend = self.pool.get_database_backend();
        self.query_one(Statement::from_string(backend, "SELECT 1"))
            .await?;
        self.pool.ping().await
    }

    /// Connections lent out now (the pool's and this process's own), and how often a
    /// statement has had to wait for one.
    pub fn connection_stats(&self) -> ConnectionStats {
        let pool_in_use = match self.pool.get_database_backend() {
            DbBackend::Sqlite => busy(self.pool.get_sqlite_connection_pool()),
            DbBackend::Postgres => busy(self.pool.get_postgres_connection_pool()),
            DbBackend::MySql => 0,
        };
        let (leased_in_use, waits) = match self.leased.as_deref() {
            Some(Leased::Sqlite(connections)) => connections.stats(),
            Some(Leased::Postgres(connections)) => connections.stats(),
            None => (0, 0),
        };
        ConnectionStats {
            in_use: pool_in_use + leased_in_use,
            waits,
        }
    }

    /// The pool for what this replica runs on its own clock, counted apart from the
    /// statements of requests and of the work they find: the feeds' polls (SQLite's event
    /// bus fifty times a second), the workers' looks for work, the rate-limit sync. Counted
    /// with the rest, they would move `/metrics`' statements between two requests that
    /// cost none, and with no traffic at all.
    pub fn background(&self) -> DatabaseConnection {
        let mut pool = match self.pool.get_database_backend() {
            DbBackend::Postgres => sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
                self.pool.get_postgres_connection_pool().clone(),
            ),
            _ => sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(
                self.pool.get_sqlite_connection_pool().clone(),
            ),
        };
        let counter = self.background.clone();
        pool.set_metric_callback(move |_| counter.count_background());
        pool
    }

    /// The statements run through `background`.
    pub fn background_statements(&self) -> StatementCounter {
        self.background.clone()
    }

    /// The statements run through this handle (and through clones of its pool made after
    /// it), on every path.
    pub fn statements(&self) -> StatementCounter {
        self.statements.clone()
    }
}

/// See `Db::connection_stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectionStats {
    pub in_use: usize,
    pub waits: u64,
}

fn busy<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> usize {
    (pool.size() as usize).saturating_sub(pool.num_idle())
}

/// Runs `$run` with `$connection` bound to a connection leased from `$leased` (either
/// backend) for `$purpose`, counting the statement `$sql`; `$run` gives a
/// `Result<_, sqlx::Error>` of sea-orm types.
macro_rules! on_leased {
    ($db:expr, $leased:expr, $purpose:expr, $sql:expr, |$connection:ident| $run:expr) => {
        match $leased {
            Leased::Sqlite(connections) => {
                on_leased!(@leased connections, $purpose, $db, $sql, |$connection| $run)
            }
            Leased::Postgres(connections) => {
                on_leased!(@leased connections, $purpose, $db, $sql, |$connection| $run)
            }
        }
    };
    (@leased $connections:expr, $purpose:expr, $db:expr, $sql:expr, |$connection:ident| $run:expr) => {{
        let mut lease = $connections.lease($purpose).await?;
        $db.statements.count($sql);
        let $connection = lease.connection();
        let done = $run;
        lease.finished(done.as_ref().err());
        done
    }};
}

impl Db {
    /// Runs `stmt`, a write outside any transaction (it commits by itself), and answers its
    /// first row: on PostgreSQL under the writing permits (see the module's comment),
    /// elsewhere as `query_one`.
    pub async fn write_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let purpose = match self.pool.get_database_backend() {
            DbBackend::Postgres => Purpose::Write,
            _ => Purpose::Read,
        };
        self.optional_row(purpose, stmt).await
    }

    /// `stmt`'s first row, on a connection leased for `purpose`.
    async fn optional_row(
        &self,
        purpose: Purpose,
        stmt: Statement,
    ) -> Result<Option<QueryResult>, DbErr> {
        let Some(leased) = &self.leased else {
            return self.pool.query_one(stmt).await;
        };
        on_leased!(self, leased.as_ref(), purpose, &stmt.sql, |connection| {
            bound(&stmt)
                .fetch_optional(connection)
                .await
                .map(|row| row.map(QueryResult::from))
        })
        .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e)))
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let Some(leased) = &self.leased else {
            return self.pool.execute(stmt).await;
        };
        on_leased!(
            self,
            leased.as_ref(),
            Purpose::Read,
            &stmt.sql,
            |connection| { bound(&stmt).execute(connection).await.map(ExecResult::from) }
        )
        .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(e)))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let Some(leased) = &self.leased else {
            return self.pool.execute_unprepared(sql).await;
        };
        on_leased!(self, leased.as_ref(), Purpose::Read, sql, |connection| {
            connection.execute(sql).await.map(ExecResult::from)
        })
        .map_err(|e| DbErr::Exec(RuntimeErr::SqlxError(e)))
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.optional_row(Purpose::Read, stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Some(leased) = &self.leased else {
            return self.pool.query_all(stmt).await;
        };
        on_leased!(
            self,
            leased.as_ref(),
            Purpose::Read,
            &stmt.sql,
            |connection| {
                bound(&stmt)
                    .fetch_all(connection)
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            }
        )
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
pub(super) fn bound<'q, DB: sqlx::Database>(
    stmt: &'q Statement,
) -> sqlx::query::Query<'q, DB, SqlxValues>
where
    SqlxValues: IntoArguments<'q, DB>,
{
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(&stmt.sql, SqlxValues(values))
}

/// What a connection is leased for: each purpose has permits of its own.
#[derive(Clone, Copy)]
pub(crate) enum Purpose {
    Read,
    /// A write that commits by itself.
    Write,
}

/// Connections for statements outside transactions, kept open and handed out one statement
/// at a time, newest returned first (on SQLite its page cache is the warmest). Reads and
/// writes that commit by themselves take permits of their own (up to the maximum each), from
/// one set of connections: a write keeps its connection while its commit reaches the disk,
/// and the reads go on beside it. A connection serves for the pool's `max_lifetime` (sqlx's
/// default, 30 minutes) and is then closed, as the pool's own are: a PostgreSQL backend's
/// caches grow over its life, and a proxy or a failover may have ended it meanwhile.
pub(crate) struct Connections<C: Connection + 'static> {
    options: C::Options,
    permits: Semaphore,
    writing: Semaphore,
    idle: Mutex<Vec<Kept<C>>>,
    acquire_timeout: Duration,
    lifetime: Option<Duration>,
    /// Permits of each purpose, for `stats`.
    max: usize,
    /// Leases that found no free permit and waited.
    waits: AtomicU64,
}

/// A connection and when it was opened.
struct Kept<C> {
    connection: C,
    opened: Instant,
}

impl<C: Connection + 'static> Connections<C> {
    pub(crate) fn new(
        options: C::Options,
        max: usize,
        acquire_timeout: Duration,
        lifetime: Option<Duration>,
    ) -> Self {
        Connections {
            options,
            permits: Semaphore::new(max.max(1)),
            writing: Semaphore::new(max.max(1)),
            idle: Mutex::new(Vec::new()),
            acquire_timeout,
            lifetime,
            max: max.max(1),
            waits: AtomicU64::new(0),
        }
    }

    /// Connections leased now, and leases that had to wait so far.
    fn stats(&self) -> (usize, u64) {
        let out = 2 * self.max
            - self.permits.available_permits().min(self.max)
            - self.writing.available_permits().min(self.max);
        (out, self.waits.load(Ordering::Relaxed))
    }

    fn expired(&self, kept: &Kept<C>) -> bool {
        self.lifetime
            .is_some_and(|lifetime| kept.opened.elapsed() >= lifetime)
    }

    /// The newest idle connection still within its lifetime; the expired ones met on the
    /// way are closed.
    fn take_idle(&self) -> Option<Kept<C>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(kept) = idle.pop() {
            if !self.expired(&kept) {
                return Some(kept);
            }
            close(kept.connection);
        }
        None
    }

    /// Keeps `kept` for the next statement unless its lifetime is over; the oldest idle
    /// connections (at the bottom, the least used) are checked too, or a quiet period would
    /// never reach them.
    fn give_back(&self, kept: Kept<C>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while idle.first().is_some_and(|oldest| self.expired(oldest)) {
            close(idle.remove(0).connection);
        }
        if self.expired(&kept) {
            close(kept.connection);
        } else {
            idle.push(kept);
        }
    }

    /// A connection for one statement of `purpose`: an idle one, or a new one while fewer
    /// than the maximum are out for that purpose; otherwise waits for one (up to the pool's
    /// acquire timeout).
    pub(crate) async fn lease(&self, purpose: Purpose) -> Result<Lease<'_, C>, DbErr> {
        let permits = match purpose {
            Purpose::Read => &self.permits,
            Purpose::Write => &self.writing,
        };
        let permit = match permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                self.waits.fetch_add(1, Ordering::Relaxed);
                tokio::time::timeout(self.acquire_timeout, permits.acquire())
                    .await
                    .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
                    .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?
            }
        };
        let kept = match self.take_idle() {
            Some(kept) => kept,
            None => Kept {
                connection: self
                    .options
                    .connect()
                    .await
                    .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?,
                opened: Instant::now(),
            },
        };
        Ok(Lease {
            connections: self,
            kept: Some(kept),
            reusable: false,
            _permit: permit,
        })
    }

    /// As many connections as `pool` may open, opened with its options.
    fn like<DB>(pool: &sqlx::Pool<DB>) -> Self
    where
        DB: sqlx::Database<Connection = C>,
    {
        Connections::new(
            (*pool.connect_options()).clone(),
            pool.options().get_max_connections() as usize,
            pool.options().get_acquire_timeout(),
            pool.options().get_max_lifetime(),
        )
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
/// its end and the connection is known to be sound: a statement abandoned halfway (its
/// request cancelled) may have left it mid-result, and a failure other than the database
/// refusing the statement (an I/O error, a protocol error) may mean it is broken. Such a
/// connection is closed instead and a new one opens in its place when needed.
pub(crate) struct Lease<'a, C: Connection + 'static> {
    connections: &'a Connections<C>,
    kept: Option<Kept<C>>,
    reusable: bool,
    _permit: SemaphorePermit<'a>,
}

impl<C: Connection + 'static> Lease<'_, C> {
    pub(crate) fn connection(&mut self) -> &mut C {
        &mut self
            .kept
            .as_mut()
            .expect("a lease holds its connection until dropped")
            .connection
    }

    /// The statement ran to its end, with `error` if it failed.
    pub(crate) fn finished(&mut self, error: Option<&sqlx::Error>) {
        self.reusable = matches!(error, None | Some(sqlx::Error::Database(_)));
    }
}

impl<C: Connection + 'static> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        if let Some(kept) = self.kept.take() {
            if self.reusable {
                self.connections.give_back(kept);
            }
        }
    }
}

/// Closes a sound connection whose lifetime is over, in the background (on PostgreSQL a
/// Terminate message, so the server logs no broken connection), without holding up the
/// statement that found it expired. How the closing goes changes nothing: it is not used again.
fn close<C: Connection + 'static>(connection: C) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = connection.close().await;
        });
    }
}

impl StatementCounter {
    fn count_background(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count(&self, sql: &str) {
        tracing::trace!(target: "partnergraph::sql", sql = %sql);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;

    fn readers(max: usize) -> Connections<SqliteConnection> {
        living(max, None)
    }

    fn living(max: usize, lifetime: Option<Duration>) -> Connections<SqliteConnection> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("options");
        Connections::new(options, max, Duration::from_millis(50), lifetime)
    }

    /// Runs `sql` on a leased connection and gives it back; whether the database took it.
    async fn run_on_lease(connections: &Connections<SqliteConnection>, sql: &str) -> bool {
        let mut lease = connections.lease(Purpose::Read).await.expect("lease");
        let result = lease.connection().execute(sql).await;
        lease.finished(result.as_ref().err());
        result.is_ok()
    }

    #[tokio::test]
    async fn a_finished_statements_connection_is_reused() {
        let readers = readers(2);
        let mut lease = readers.lease(Purpose::Read).await.expect("lease");
        lease
            .connection()
            .execute("SELECT 1")
            .await
            .expect("select");
        lease.finished(None);
        drop(lease);
        assert_eq!(readers.idle_count(), 1);
        let lease = readers.lease(Purpose::Read).await.expect("second lease");
        assert_eq!(readers.idle_count(), 0, "the idle connection was taken");
        drop(lease);
    }

    #[tokio::test]
    async fn a_statement_the_database_refused_keeps_its_connection() {
        let readers = readers(1);
        let mut lease = readers.lease(Purpose::Read).await.expect("lease");
        let refused = lease.connection().execute("SELEC 1").await;
        assert!(
            matches!(refused, Err(sqlx::Error::Database(_))),
            "{refused:?}"
        );
        lease.finished(refused.as_ref().err());
        drop(lease);
        assert_eq!(readers.idle_count(), 1);
    }

    #[tokio::test]
    async fn a_connection_whose_statement_failed_otherwise_is_closed() {
        let readers = readers(1);
        let mut lease = readers.lease(Purpose::Read).await.expect("lease");
        lease.finished(Some(&sqlx::Error::Io(std::io::Error::other("reset"))));
        drop(lease);
        assert_eq!(readers.idle_count(), 0);
        readers
            .lease(Purpose::Read)
            .await
            .expect("a new connection in its place");
    }

    #[tokio::test]
    async fn an_abandoned_statements_connection_is_closed_and_its_place_freed() {
        let readers = readers(1);
        let lease = readers.lease(Purpose::Read).await.expect("lease");
        drop(lease);
        assert_eq!(readers.idle_count(), 0);
        readers
            .lease(Purpose::Read)
            .await
            .expect("a new connection in its place");
    }

    #[tokio::test]
    async fn no_more_than_the_maximum_are_out_at_once() {
        let readers = readers(1);
        let held = readers.lease(Purpose::Read).await.expect("lease");
        let waited = readers.lease(Purpose::Read).await;
        assert!(
            matches!(
                waited,
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
            ),
            "a second lease waits, then times out"
        );
        drop(held);
        readers.lease(Purpose::Read).await.expect("free again");
    }

    #[tokio::test]
    async fn writes_lease_beside_the_reads_and_share_their_connections() {
        let connections = readers(1);
        let read = connections.lease(Purpose::Read).await.expect("read");
        let mut write = connections
            .lease(Purpose::Write)
            .await
            .expect("a write does not wait for the reads' permit");
        let waited = connections.lease(Purpose::Write).await;
        assert!(
            matches!(
                waited,
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
            ),
            "writes have a maximum of their own"
        );
        drop(read);
        write.finished(None);
        drop(write);
        assert_eq!(
            connections.idle_count(),
            1,
            "the write's connection is kept"
        );
        let _read = connections.lease(Purpose::Read).await.expect("read again");
        assert_eq!(connections.idle_count(), 0, "and a read takes it");
    }

    #[tokio::test]
    async fn a_connection_past_its_lifetime_is_closed_instead_of_kept() {
        let connections = living(1, Some(Duration::ZERO));
        assert!(run_on_lease(&connections, "SELECT 1").await);
        assert_eq!(connections.idle_count(), 0);
    }

    #[tokio::test]
    async fn an_idle_connection_that_outlives_its_lifetime_is_not_leased_again() {
        let connections = living(1, Some(Duration::from_millis(300)));
        // A temporary table is the connection's own: it tells it from a new one.
        assert!(run_on_lease(&connections, "CREATE TEMP TABLE marker (id INTEGER)").await);
        assert!(
            run_on_lease(&connections, "SELECT id FROM marker").await,
            "within its lifetime the same connection comes back"
        );
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(
            !run_on_lease(&connections, "SELECT id FROM marker").await,
            "past it, a new connection serves"
        );
    }

    #[tokio::test]
    async fn the_oldest_idle_connections_are_closed_when_one_comes_back() {
        let connections = living(2, Some(Duration::from_millis(300)));
        let mut older = connections.lease(Purpose::Read).await.expect("older");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut newer = connections.lease(Purpose::Read).await.expect("newer");
        older.finished(None);
        newer.finished(None);
        drop(older);
        drop(newer);
        assert_eq!(connections.idle_count(), 2);
        tokio::time::sleep(Duration::from_millis(150)).await;
        // The newer one, on top, is within its lifetime and leased; the older one below
        // is not reached by leasing but is closed when the newer one comes back.
        assert!(run_on_lease(&connections, "SELECT 1").await);
        assert_eq!(connections.idle_count(), 1);
    }
}
