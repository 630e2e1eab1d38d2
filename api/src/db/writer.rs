//! SQLite's writer: one connection of its own that commits the writes waiting together
//! as one group, the write transactions that take their turn on it (PostgreSQL's are plain
//! transactions), and the log's checkpoints off the request path.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    SqlxSqliteConnector, Statement,
};

use super::handle;

/// The savepoint of one write in a group.
pub(super) const MEMBER: &str = "member";

/// The most writes one group commits together.
const MAX_GROUP: usize = 64;

/// One write waiting for its group, and where its outcome goes.
struct Member {
    batch: Statement,
    done: tokio::sync::oneshot::Sender<Result<Vec<QueryResult>, DbErr>>,
}

/// The writes waiting for the writer, and whether a task is writing them.
#[derive(Default)]
struct Queue {
    waiting: Vec<Member>,
    leading: bool,
}

/// Group commit: `batch` (a savepoint's statements) waits for the writer's next group, which
/// runs the writes that waited together in one transaction, each in its own savepoint (one
/// that fails is rolled back alone and answers its error), and answers each once the group
/// has committed: one sync of the log per group instead of one per write, and the pages
/// that several writes change are written to the log once. No write is answered before its
/// COMMIT has returned. A group is written by a task of its own, so a caller that stops
/// waiting cannot cut it short.
pub(super) async fn write_in_group(
    db: &DatabaseConnection,
    batch: Statement,
) -> Result<Vec<QueryResult>, DbErr> {
    let writer = sqlite_writer(db);
    let (done, outcome) = tokio::sync::oneshot::channel();
    let lead = {
        let mut queue = writer.queue();
        queue.waiting.push(Member { batch, done });
        !std::mem::replace(&mut queue.leading, true)
    };
    if lead {
        tokio::spawn(lead_groups(writer));
    }
    outcome
        .await
        .map_err(|_| DbErr::Custom("the writer stopped before this write's group ended".into()))?
}

/// Writes groups until no write waits.
async fn lead_groups(writer: Arc<SqliteWriter>) {
    // Should this task end early (a panic), the next write starts another: the writes it
    // held answer an error, as their senders drop.
    let mut resign = Resign(Some(writer.clone()));
    loop {
        let group: Vec<Member> = {
            let mut queue = writer.queue();
            if queue.waiting.is_empty() {
                queue.leading = false;
                resign.0 = None;
                return;
            }
            let n = queue.waiting.len().min(MAX_GROUP);
            queue.waiting.drain(..n).collect()
        };
        let (turn, connection) = writer.take_turn().await;
        let outcomes = write_group(&connection, group.iter().map(|m| &m.batch)).await;
        drop(turn);
        for (member, outcome) in group.into_iter().zip(outcomes) {
            // A caller that stopped waiting has nobody to tell.
            let _ = member.done.send(outcome);
        }
    }
}

/// Clears the writer's leading flag if its leader ends without doing so itself.
struct Resign(Option<Arc<SqliteWriter>>);

impl Drop for Resign {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take() {
            writer.queue().leading = false;
        }
    }
}

/// Runs `batches` in one transaction on the writer's connection (held for the whole group:
/// the pool checks a connection each time it comes back), each in its savepoint; the
/// outcome of each, every one an error if the transaction does not commit.
async fn write_group<'a>(
    connection: &DatabaseConnection,
    batches: impl ExactSizeIterator<Item = &'a Statement>,
) -> Vec<Result<Vec<QueryResult>, DbErr>> {
    use sea_orm::sqlx::Executor;
    let n = batches.len();
    let failed = |why: &str| -> Vec<Result<Vec<QueryResult>, DbErr>> {
        (0..n)
            .map(|_| Err(DbErr::Custom(format!("the write's group {why}"))))
            .collect()
    };
    let mut sqlite = match connection.get_sqlite_connection_pool().acquire().await {
        Ok(sqlite) => sqlite,
        Err(err) => return failed(&format!("found no connection: {err}")),
    };
    if let Err(err) = sqlite.execute("BEGIN IMMEDIATE").await {
        return failed(&format!("did not begin: {err}"));
    }
    let mut outcomes = Vec::with_capacity(n);
    for batch in batches {
        match handle::bound(batch).fetch_all(&mut *sqlite).await {
            Ok(rows) => outcomes.push(Ok(rows.into_iter().map(QueryResult::from).collect())),
            Err(err) => {
                let undo = format!("ROLLBACK TO {MEMBER}; RELEASE {MEMBER}");
                if let Err(undo_err) = sqlite.execute(undo.as_str()).await {
                    let _ = sqlite.execute("ROLLBACK").await;
                    return failed(&format!("could not undo a failed write: {undo_err}"));
                }
                outcomes.push(Err(DbErr::Query(sea_orm::RuntimeErr::SqlxError(err))));
            }
        }
    }
    if let Err(err) = sqlite.execute("COMMIT").await {
        let _ = sqlite.execute("ROLLBACK").await;
        return failed(&format!("did not commit: {err}"));
    }
    outcomes
}

/// A service result: the value, or the user errors that stopped it (nothing written).
pub type Outcome<T> = Result<T, Vec<crate::relay::UserError>>;

/// Ends a transaction by its result: commit when the work succeeded; roll back when it
/// stopped on user errors or failed. Rolling back explicitly matters: a dropped
/// transaction only queues its ROLLBACK, leaving the pooled connection idle in a
/// transaction (and holding its locks) until it happens to be reused.
pub async fn settle<T>(
    txn: WriteTxn,
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

/// This process's writer for one SQLite pool: a connection of its own, used by one
/// transaction (or one group of atomic writes, `write_in_group`) at a time, first come
/// first served.
///
/// The queue: SQLite has one writer at a time; without it, waiting writers sit in SQLite's
/// busy handler, which sleeps in growing steps (up to 100 ms) while holding a connection:
/// the tail of write latency under concurrency. A waiting writer holds nothing.
///
/// The connection of its own: in WAL mode a connection empties its page cache whenever
/// another one has committed since its last transaction. When writes took turns on the
/// pool's connections, each write began with a cold cache and re-read the pages of every
/// index it touched (about 200 us per INSERT into the registrations and their ten indexes,
/// timed on the reference machine). The only writer never sees anyone else's commit, so its
/// cache stays warm; and it never waits for a pool connection while others wait for it.
pub(super) struct SqliteWriter {
    /// The pool's connect options, kept so that the pool's identity (their address) is
    /// never reused while this writer exists.
    _pool_options: Arc<SqliteConnectOptions>,
    turn: Arc<tokio::sync::Mutex<()>>,
    pub(super) connection: std::sync::Mutex<DatabaseConnection>,
    queue: std::sync::Mutex<Queue>,
}

impl SqliteWriter {
    /// Waits for the turn; answers it with the connection to write on.
    async fn take_turn(&self) -> (tokio::sync::OwnedMutexGuard<()>, DatabaseConnection) {
        let turn = self.turn.clone().lock_owned().await;
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        (turn, connection)
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The writers of this process's SQLite pools, by pool.
static SQLITE_WRITERS: LazyLock<std::sync::Mutex<HashMap<usize, Arc<SqliteWriter>>>> =
    LazyLock::new(Default::default);

/// The writer of `db`'s pool, opened (lazily: its connection opens with the first write)
/// with the pool's own options. Its connection closes after a minute without writes.
pub(super) fn sqlite_writer(db: &DatabaseConnection) -> Arc<SqliteWriter> {
    let options = db.get_sqlite_connection_pool().connect_options();
    let key = Arc::as_ptr(&options) as usize;
    let mut writers = SQLITE_WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    writers
        .entry(key)
        .or_insert_with(|| {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .idle_timeout(Duration::from_secs(60))
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .connect_lazy_with((*options).clone());
            Arc::new(SqliteWriter {
                _pool_options: options,
                turn: Arc::default(),
                connection: std::sync::Mutex::new(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)),
                queue: Default::default(),
            })
        })
        .clone()
}

/// Begins a transaction that will write. On SQLite it waits for this process's writer turn,
/// then its first statement takes the database's write lock (another process may hold it:
/// then it waits up to the busy timeout), so that a later write can never fail with
/// "database is locked", as upgrading a reading transaction does under contention; the
/// statement changes nothing. PostgreSQL needs neither step.
pub async fn begin_write<C: Writer>(db: &C) -> Result<WriteTxn, DbErr> {
    db.begin_write().await
}

/// What a write transaction begins on: the pool, or an enclosing write transaction (then
/// it is a savepoint, inside the enclosing one's turn).
#[async_trait::async_trait]
pub trait Writer: ConnectionTrait {
    async fn begin_write(&self) -> Result<WriteTxn, DbErr>;
}

#[async_trait::async_trait]
impl Writer for DatabaseConnection {
    async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        use sea_orm::TransactionTrait;
        if self.get_database_backend() != DbBackend::Sqlite {
            return Ok(WriteTxn {
                txn: Some(self.begin().await?),
                _turn: None,
                nested: false,
            });
        }
        let txn = sqlite_turn(self).await?;
        txn.execute_unprepared("UPDATE settings SET value = value WHERE key = 'write-lock'")
            .await?;
        Ok(txn)
    }
}

/// `begin_write` for a transaction whose first statement writes: that statement takes
/// SQLite's write lock itself (there is no read snapshot to upgrade), so the no-op lock
/// statement is left out, one round trip fewer in the writer's turn.
pub async fn begin_write_starting_with_a_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return db.begin_write().await;
    }
    sqlite_turn(db).await
}

/// A transaction in this process's SQLite writer turn.
async fn sqlite_turn(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    use sea_orm::TransactionTrait;
    let (turn, connection) = sqlite_writer(db).take_turn().await;
    Ok(WriteTxn {
        txn: Some(connection.begin().await?),
        _turn: Some(turn),
        nested: false,
    })
}

#[async_trait::async_trait]
impl Writer for WriteTxn {
    async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        use sea_orm::TransactionTrait;
        Ok(WriteTxn {
            txn: Some(self.open().begin().await?),
            _turn: None,
            nested: true,
        })
    }
}

/// A transaction from `begin_write`; on SQLite it keeps the writer turn until it ends.
/// One dropped without `commit` or `rollback` (an early return) is rolled back at once by a
/// task, not when its connection happens to be used next: until then it would hold its
/// locks, and on PostgreSQL a connection left idle in the pool kept a dropped transaction's
/// locks for minutes (a test's `DROP SCHEMA` waited on one).
pub struct WriteTxn {
    txn: Option<sea_orm::DatabaseTransaction>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// A savepoint inside another write transaction: its rollback must stay in order with
    /// the enclosing transaction's statements, so sea-orm's own drop queues it.
    nested: bool,
}

impl WriteTxn {
    fn open(&self) -> &sea_orm::DatabaseTransaction {
        self.txn
            .as_ref()
            .expect("a write transaction is open until it ends")
    }

    pub async fn commit(mut self) -> Result<(), DbErr> {
        let txn = self.txn.take().expect("open");
        txn.commit().await
    }

    pub async fn rollback(mut self) -> Result<(), DbErr> {
        let txn = self.txn.take().expect("open");
        txn.rollback().await
    }
}

impl Drop for WriteTxn {
    fn drop(&mut self) {
        if self.nested {
            return;
        }
        let Some(txn) = self.txn.take() else {
            return;
        };
        // The writer turn (SQLite) is given up only once the rollback is done.
        let turn = self._turn.take();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = txn.rollback().await {
                    tracing::warn!(%error, "rolling back an abandoned write transaction failed");
                }
                drop(turn);
            });
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.open().get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.open().execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.open().execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.open().query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.open().query_all(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.open().support_returning()
    }
}

/// Checkpoints SQLite's write-ahead log every `period`, off the request path. Left to
/// itself SQLite checkpoints inside the commit that finds the log past 1,000 pages: that
/// writer then copies the log into the database and syncs it while every other writer
/// waits for its turn, which is the tail of write latency under load. A passive checkpoint
/// waits for nobody and blocks nobody; SQLite's own remains the fallback if this one falls
/// behind. Nothing to do on PostgreSQL.
pub fn spawn_wal_checkpoints(db: DatabaseConnection, period: Duration) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = checkpoint_wal(&db).await {
                tracing::warn!(error = %err, "WAL checkpoint failed");
            }
        }
    });
}

/// One passive checkpoint: the log frames still to copy into the database afterwards (a
/// frame stays when a reader's snapshot still needs it); `None` if the database is not in
/// WAL mode.
pub async fn checkpoint_wal(db: &DatabaseConnection) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
    let logged: i64 = row.try_get_by_index(1)?;
    let copied: i64 = row.try_get_by_index(2)?;
    Ok((logged >= 0).then(|| logged - copied.max(0)))
}
