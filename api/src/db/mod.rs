//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, Query, SelectStatement, SimpleExpr,
    WithClause, WithQuery,
};
use sea_orm::sqlx;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, IdenStatic, QueryResult, QuerySelect, QueryTrait, Select, Statement, Value,
};

mod backup;
mod handle;
mod rows;
mod shape;
mod writer;
pub use backup::backup_sqlite;
pub use handle::{ConnectionStats, Db};
pub use rows::{Fast, Prefixed, ReadRow};
pub use shape::Shapes;
pub use writer::*;
use writer::{sqlite_writer, write_in_group, MEMBER};

/// `values` as one JSON array, the bound value of [`in_texts`] and [`in_ids`].
pub fn json_list<T: serde::Serialize>(values: &[T]) -> Value {
    Value::from(serde_json::to_string(values).expect("a list of texts or numbers serialises"))
}

/// `column IN` the texts `values`, bound as one JSON array: however many there are, the
/// statement's text is the same, so it is built once, prepared once per connection and its
/// plan kept, where an `IN (?, ?, …)` list is a new statement for every count. Each value
/// is still its own index lookup on both databases.
pub fn in_texts(backend: DbBackend, column: SimpleExpr, values: &[String]) -> SimpleExpr {
    in_json_list(backend, column, json_list(values), "TEXT")
}

/// `column IN` the ids `values`, bound as one value (see [`in_texts`]). On PostgreSQL it is
/// an array (`= ANY`): the planner takes a set from JSON for 100 rows, so it read a small
/// table whole rather than look up a few ids (a conflict check's 14 accounts among 1,517:
/// 0.55 ms against 0.12 ms).
pub fn in_ids(backend: DbBackend, column: SimpleExpr, values: &[i64]) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            let listed: Vec<String> = values.iter().map(i64::to_string).collect();
            let array = Value::from(format!("{{{}}}", listed.join(",")));
            Expr::cust_with_exprs("$1 = ANY(CAST($2 AS BIGINT[]))", [column, array.into()])
        }
        _ => in_json_list(backend, column, json_list(values), "BIGINT"),
    }
}

/// `column IN` the elements of the JSON array `list`, each read on PostgreSQL as `element`.
fn in_json_list(backend: DbBackend, column: SimpleExpr, list: Value, element: &str) -> SimpleExpr {
    let filter = match backend {
        DbBackend::Postgres => {
            format!("$1 IN (SELECT CAST(json_array_elements_text(CAST($2 AS json)) AS {element}))")
        }
        // SQLite's placeholder is `?`, taken in order; json_each gives each element its type.
        _ => "? IN (SELECT value FROM json_each(?))".to_owned(),
    };
    Expr::cust_with_exprs(filter, [column, list.into()])
}

/// A value that both drivers decode from a column.
pub trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
{
}

/// A filter nothing passes, binding no value (sea-query's empty `IN` binds two, which a
/// statement whose values are listed by hand, `Shapes`, would have to follow).
pub fn nothing() -> SimpleExpr {
    Expr::cust("1 = 0")
}

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`). `search_path` selects a
/// PostgreSQL schema (used by the tests to give each test its own).
pub async fn connect(url: &str, search_path: Option<&str>) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // sqlx pings a connection when it returns to the pool; a second ping when it is
        // taken out again is one more round trip per statement (a network round trip on
        // PostgreSQL) for little gain: a connection that broke while idle fails one
        // statement and is then discarded.
        .test_before_acquire(false)
        .sqlx_logging(false);
    let connections = |default: u32| -> Result<u32, DbErr> {
        match std::env::var("PARTNERGRAPH_DB_CONNECTIONS") {
            Err(_) => Ok(default),
            Ok(text) => text.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                DbErr::Custom(format!(
                    "PARTNERGRAPH_DB_CONNECTIONS must be a positive number, not {text:?}"
                ))
            }),
        }
    };
    if url.starts_with("sqlite:") {
        // SQLite allows one writer; a small pool avoids piling up writers on its lock.
        // Each connection keeps 8 MiB of pages (SQLite's default is 2 MiB): the hot indexes
        // of a large program stay in memory instead of being re-read on every query.
        options
            .max_connections(connections(4)?)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                // WAL lets readers run beside the writer. Set on every connection as it
                // opens: the mode is stored in the file, but a connection only knows it
                // once it has read the file, and a WAL checkpoint asked of one that has
                // not yet does nothing.
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .pragma("cache_size", "-8192")
            });
    } else {
        options.max_connections(connections(postgres_pool_size())?);
    }
    if let Some(path) = search_path {
        // A startup parameter of every connection opened with the pool's options, the
        // server's own reading connections (`Db`) included; sea-orm's own setting would
        // only run on the pool's connections.
        let path = path.to_owned();
        options.map_sqlx_postgres_opts(move |o| o.options([("search_path", path.as_str())]));
    }
    let db = Database::connect(options).await?;
    Ok(db)
}

/// The PostgreSQL schema this pool's connections work in (their `search_path`): sea-query
/// has no builder for a bare function call, so this is the one statement's text.
pub async fn current_schema(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_schema() AS schema",
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<String>("", "schema"))
        .transpose()?
        .unwrap_or_default())
}

/// The rest of a NOTIFY payload written in `schema` (`schema:rest`), or `None` for one
/// another schema's writer sent: schemas of one database share its channels.
pub fn in_schema<'a>(payload: &'a str, schema: &str) -> Option<&'a str> {
    payload.strip_prefix(schema)?.strip_prefix(':')
}

/// The default PostgreSQL pool: two connections per core of this replica, at least four. A
/// replica cannot keep more statements busy than its cores can drive; further connections
/// only queue inside the database, where the operating system rather than the pool's
/// first-come queue picks who runs next, and add up across replicas against the server's
/// `max_connections`. On the 2-core reference machine under 32 clients, 4 connections
/// instead of 16 cut `registerDeal`'s p99 from 80-90 ms to 46-48 ms.
fn postgres_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(2 * cores).unwrap_or(u32::MAX).max(4)
}

/// Selects every column of `E` as `{prefix}{column}`, the way `FromQueryResult` reads them.
pub fn select_prefixed<E: EntityTrait>(query: &mut SelectStatement, prefix: &str) {
    use sea_orm::{ColumnTrait, IdenStatic, Iterable};
    for column in E::Column::iter() {
        query.expr_as(
            column.select_as(Expr::col((E::default(), column))),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    // Replicas started together (an upgrade rolling out) would each apply the same new
    // migration, and all but one fail on what the first created: sea-orm-migration takes no
    // lock. One transaction holds an advisory lock for the schema while the migrations run
    // on the pool; the others wait for it, then find nothing left to do.
    use sea_orm::TransactionTrait;
    let turn = db.begin().await?;
    turn.execute_unprepared(
        "SELECT pg_advisory_xact_lock(hashtext('partnergraph-migrate:' || current_schema()))",
    )
    .await?;
    let migrated = Migrator::up(db, None).await;
    turn.commit().await?;
    migrated
}

/// `?` for SQLite, `$n` for PostgreSQL: for the few hand-written statements.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// The sum of a minor-units `column` over the rows of `select` (0 for none), in the
/// database.
pub async fn sum_minor<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    column: E::Column,
) -> Result<i64, DbErr> {
    let [total] = sums_minor(db, [minor_total(select, column)]).await?;
    Ok(total)
}

/// The query for the sum of a minor-units `column` over `select`'s rows. SUM over BIGINT is
/// NUMERIC on PostgreSQL; the cast keeps one integer type on both backends.
pub fn minor_total<E: EntityTrait>(select: Select<E>, column: E::Column) -> SelectStatement {
    select
        .select_only()
        .column_as(
            Expr::cust(format!(
                "CAST(COALESCE(SUM({}), 0) AS BIGINT)",
                column.as_str()
            )),
            "total",
        )
        .into_query()
}

/// Several `minor_total`s read in one statement, in order.
pub async fn sums_minor<const N: usize>(
    db: &impl ConnectionTrait,
    totals: [SelectStatement; N],
) -> Result<[i64; N], DbErr> {
    read_sums(db, db.get_database_backend().build(&sums_query(totals))).await
}

/// `query` (one row, one column) as a value of the statement it is written in.
pub fn scalar(query: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(query.into_sub_query_statement()))
}

/// One SELECT of several `minor_total`s, as columns `total_0`, `total_1`, ...
pub fn sums_query<const N: usize>(totals: [SelectStatement; N]) -> SelectStatement {
    let mut query = Query::select();
    for (i, total) in totals.into_iter().enumerate() {
        query.expr_as(scalar(total), Alias::new(format!("total_{i}")));
    }
    query
}

/// The totals of a `sums_query` statement.
pub async fn read_sums<const N: usize>(
    db: &impl ConnectionTrait,
    statement: Statement,
) -> Result<[i64; N], DbErr> {
    let row = db
        .query_one(statement)
        .await?
        .ok_or_else(|| DbErr::Custom("a SELECT of sums returned no row".into()))?;
    let mut sums = [0; N];
    for (i, sum) in sums.iter_mut().enumerate() {
        *sum = row.try_get("", &format!("total_{i}"))?;
    }
    Ok(sums)
}

/// Several INSERTs sent to the database together: one round trip instead of one each, which
/// counts inside SQLite's writer turn, where every round trip (a hand-off to the
/// connection's thread and back) holds up all other writers. SQLite runs them as one batch
/// of statements; PostgreSQL, which takes one statement per call, runs the first ones as
/// data-modifying common table expressions of the last. Each INSERT must stand alone: no
/// one reads another's rows.
pub async fn insert_together(
    db: &impl ConnectionTrait,
    mut inserts: Vec<InsertStatement>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let Some(last) = inserts.pop() else {
        return Ok(());
    };
    let statement = if inserts.is_empty() {
        backend.build(&last)
    } else if backend == DbBackend::Postgres {
        backend.build(&writes_first(None, inserts).query(last))
    } else {
        sqlite_batch(inserts.into_iter().chain([last]))
    };
    db.execute(statement).await?;
    Ok(())
}

/// INSERTs as one SQLite batch of statements, run in order by one call.
fn sqlite_batch(inserts: impl IntoIterator<Item = InsertStatement>) -> Statement {
    let backend = DbBackend::Sqlite;
    let mut sql = Vec::new();
    let mut values = Vec::new();
    for insert in inserts {
        let built = backend.build(&insert);
        sql.push(built.sql);
        values.extend(built.values.map(|v| v.0).unwrap_or_default());
    }
    Statement::from_sql_and_values(backend, sql.join(";\n"), values)
}

/// The name under which `insert_with_dependents` holds its row while the statement runs.
const INSERTED: &str = "inserted";

/// Inserts a row (`row` must return it) and the rows that refer to it, which
/// `dependents` builds from an expression of the row's id; answers the row. On PostgreSQL
/// all of it is one statement (the row's INSERT and the dependents' are data-modifying
/// common table expressions; foreign keys are checked at the statement's end, when the row
/// exists), atomic by itself, so it needs no transaction. SQLite, which has no
/// data-modifying CTEs, takes the row first and then the dependents together
/// (`insert_together`): two round trips, to be run in a transaction.
pub async fn insert_with_dependents(
    db: &impl ConnectionTrait,
    row: InsertStatement,
    dependents: impl FnOnce(SimpleExpr) -> Vec<InsertStatement>,
) -> Result<QueryResult, DbErr> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let statement = backend.build(&with_dependents(row, dependents));
        return returned(db.query_one(statement).await?);
    }
    let inserted = returned(db.query_one(backend.build(&row)).await?)?;
    let id: i64 = inserted.try_get("", "id")?;
    insert_together(db, dependents(Expr::val(id).into())).await?;
    Ok(inserted)
}

/// PostgreSQL's one statement for a row and its dependents: the row's INSERT and the
/// dependents' are data-modifying common table expressions (foreign keys are checked at
/// the statement's end, when the row exists), and the statement answers the row.
fn with_dependents(
    row: InsertStatement,
    dependents: impl FnOnce(SimpleExpr) -> Vec<InsertStatement>,
) -> WithQuery {
    let id = Expr::cust(format!(r#"(SELECT "id" FROM "{INSERTED}")"#));
    let answer = Query::select()
        .column(sea_orm::sea_query::Asterisk)
        .from(Alias::new(INSERTED))
        .to_owned();
    writes_first(Some(row), dependents(id)).query(answer)
}

/// The row an INSERT … RETURNING answered.
fn returned(row: Option<QueryResult>) -> Result<QueryResult, DbErr> {
    row.ok_or_else(|| DbErr::Custom("an INSERT … RETURNING returned no row".into()))
}

/// `insert_with_dependents` outside any transaction, atomic by itself: the statement of an
/// insert of `row` (which must return it) into `E` and of its dependents (built from an
/// expression of the row's id). PostgreSQL: `with_dependents`' one statement. SQLite: the
/// INSERTs as one batch inside a savepoint of the writer's group transaction
/// (`write_in_group`): one hand-off to the writer's thread, where a transaction of its own
/// takes four (BEGIN, the row, its dependents, COMMIT) and a sync of the log. The
/// dependents find the row's id as the table's largest: the group holds the write lock, and
/// SQLite gives a new row an id above every existing one. Its text depends only on the
/// statements' shapes, so a caller may keep it (`Shapes::built`).
pub fn atomic_insert<E: EntityTrait>(
    backend: DbBackend,
    row: InsertStatement,
    dependents: impl FnOnce(SimpleExpr) -> Vec<InsertStatement>,
) -> Statement {
    if backend != DbBackend::Sqlite {
        return backend.build(&with_dependents(row, dependents));
    }
    let newest = Expr::cust(format!(
        r#"(SELECT MAX("id") FROM "{}")"#,
        E::default().table_name()
    ));
    let mut batch = sqlite_batch(std::iter::once(row).chain(dependents(newest)));
    batch.sql = format!("SAVEPOINT {MEMBER};\n{};\nRELEASE {MEMBER}", batch.sql);
    batch
}

/// Runs an `atomic_insert` statement outside any transaction and answers the row. Not for
/// use while the same task holds a write transaction (`begin_write`): on SQLite the group
/// would wait for the turn that transaction holds.
pub async fn write_atomically(db: &Db, statement: Statement) -> Result<QueryResult, DbErr> {
    if statement.db_backend != DbBackend::Sqlite {
        return returned(db.write_one(statement).await?);
    }
    db.statements().count(&statement.sql);
    returned(
        write_in_group(db.pool(), statement)
            .await?
            .into_iter()
            .next(),
    )
}

/// The values an INSERT of `model` binds, in their order: its set columns' values.
pub fn insert_values<A: ActiveModelTrait>(model: &A) -> Vec<Value> {
    set_columns(model)
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

/// `model`'s set columns with their values, in the order an INSERT of it names them.
pub fn set_columns<A: ActiveModelTrait>(
    model: &A,
) -> Vec<(<A::Entity as EntityTrait>::Column, Value)> {
    use sea_orm::Iterable;
    <A::Entity as EntityTrait>::Column::iter()
        .filter_map(|column| Some((column, model.get(column).into_value()?)))
        .collect()
}

/// INSERTs as data-modifying common table expressions (PostgreSQL), run with the statement
/// they precede: `row` named `INSERTED`, the others `write_0`, `write_1`, ….
fn writes_first(row: Option<InsertStatement>, inserts: Vec<InsertStatement>) -> WithClause {
    let named = inserts
        .into_iter()
        .enumerate()
        .map(|(i, insert)| (format!("write_{i}"), insert));
    let mut with = WithClause::new();
    for (name, insert) in row
        .map(|row| (INSERTED.to_owned(), row))
        .into_iter()
        .chain(named)
    {
        with.cte(
            CommonTableExpression::new()
                .query(insert)
                .table_name(Alias::new(name))
                .to_owned(),
        );
    }
    with
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
    db.set_metric_callback(counting(counter.0.clone()));
    if db.get_database_backend() == DbBackend::Sqlite {
        sqlite_writer(db)
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_metric_callback(counting(counter.0.clone()));
    }
    counter
}

fn counting(count: Arc<AtomicU64>) -> impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync {
    move |info| {
        tracing::trace!(target: "partnergraph::sql", elapsed = ?info.elapsed, sql = %info.statement.sql);
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Makes the other transactions that write `table` wait until this one ends (on SQLite a
/// write transaction already does). Raw SQL because sea-orm has no table lock; the kept
/// metric months need it so that a trigger forgetting a month cannot slip between the
/// month's read and its keeping (`metrics::months`).
pub async fn hold_off_writers(txn: &WriteTxn, table: &'static str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::TransactionTrait;

    async fn temporary_sqlite() -> (DatabaseConnection, std::path::PathBuf) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("pg-wal-{}-{nanos}.db", std::process::id()));
        let db = connect(&format!("sqlite://{}?mode=rwc", path.display()), None)
            .await
            .expect("open SQLite");
        (db, path)
    }

    #[tokio::test]
    async fn a_passive_checkpoint_copies_what_no_reader_still_needs() {
        let (db, path) = temporary_sqlite().await;
        db.execute_unprepared("CREATE TABLE t (v TEXT)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES ('before')")
            .await
            .unwrap();
        assert_eq!(checkpoint_wal(&db).await.unwrap(), Some(0));

        // A reader's snapshot pins the log: frames written after it began stay in the log.
        let reader = db.begin().await.unwrap();
        reader
            .query_all(Statement::from_string(DbBackend::Sqlite, "SELECT v FROM t"))
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES ('after')")
            .await
            .unwrap();
        assert!(checkpoint_wal(&db).await.unwrap().unwrap() > 0);

        reader.rollback().await.unwrap();
        assert_eq!(checkpoint_wal(&db).await.unwrap(), Some(0));
        db.close().await.unwrap();
        remove_sqlite(&path);
    }

    fn remove_sqlite(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test]
    async fn sqlite_writes_take_turns_on_a_connection_of_their_own() {
        let (db, path) = temporary_sqlite().await;
        // A TEMP table lives on the connection that made it.
        let first = begin_write_starting_with_a_write(&db).await.unwrap();
        first
            .execute_unprepared("CREATE TEMP TABLE made_here (v INTEGER)")
            .await
            .unwrap();
        first.commit().await.unwrap();

        let second = begin_write_starting_with_a_write(&db).await.unwrap();
        second
            .execute_unprepared("SELECT v FROM made_here")
            .await
            .expect("the second write runs on the first one's connection");
        // The queue: a third writer waits for the second one's turn to end.
        let third = tokio::spawn({
            let db = db.clone();
            async move {
                begin_write_starting_with_a_write(&db)
                    .await?
                    .rollback()
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!third.is_finished(), "two writers at once");
        second.rollback().await.unwrap();
        third.await.unwrap().unwrap();

        let pool = db.get_sqlite_connection_pool().clone();
        let mut readers = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            readers.push(pool.acquire().await.unwrap());
        }
        for reader in &mut readers {
            let seen = sea_orm::sqlx::query("SELECT v FROM made_here")
                .fetch_all(&mut **reader)
                .await;
            assert!(seen.is_err(), "a pool connection wrote");
        }
        drop(readers);
        db.close().await.unwrap();
        remove_sqlite(&path);
    }

    /// A table for `atomic_insert`'s rows.
    mod parent {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "parent")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
            pub name: String,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    async fn insert_parent(db: &Db, name: &str, children: &[&str]) -> Result<i64, DbErr> {
        let mut row = Query::insert();
        row.into_table(parent::Entity)
            .columns([parent::Column::Name])
            .values_panic([name.into()])
            .returning_all();
        let children: Vec<String> = children.iter().map(|c| c.to_string()).collect();
        let statement = atomic_insert::<parent::Entity>(db.get_database_backend(), row, |id| {
            let mut insert = Query::insert();
            insert
                .into_table(Alias::new("child"))
                .columns([Alias::new("parent_id"), Alias::new("v")]);
            for child in children {
                insert.values_panic([id.clone(), child.into()]);
            }
            vec![insert]
        });
        let inserted = write_atomically(db, statement).await?;
        inserted.try_get("", "id")
    }

    async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<(i64, String)> {
        db.query_all(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row.try_get_by_index(0).unwrap(),
                    row.try_get_by_index(1).unwrap(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn an_atomic_insert_writes_its_row_and_dependents_whole_or_not_at_all() {
        let (db, path) = temporary_sqlite().await;
        db.execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id), v TEXT UNIQUE);
             INSERT INTO parent (id, name) VALUES (40, 'older');",
        )
        .await
        .unwrap();

        let serving = Db::serving(db.clone());
        let first = insert_parent(&serving, "first", &["a", "b"]).await.unwrap();
        assert_eq!(first, 41);
        // A dependent that fails (a taken value) leaves neither the row nor the dependents
        // before it.
        let refused = insert_parent(&serving, "refused", &["c", "a"]).await;
        assert!(refused.is_err(), "{refused:?}");
        let after = insert_parent(&serving, "after", &["c"]).await.unwrap();
        assert_eq!(
            rows(&db, "SELECT id, name FROM parent ORDER BY id").await,
            [
                (40, "older".into()),
                (41, "first".into()),
                (after, "after".into())
            ]
        );
        assert_eq!(
            rows(&db, "SELECT parent_id, v FROM child ORDER BY v").await,
            [(41, "a".into()), (41, "b".into()), (after, "c".into())]
        );
        // The writer's connection is not left inside a transaction.
        begin_write_starting_with_a_write(&db)
            .await
            .unwrap()
            .rollback()
            .await
            .unwrap();
        db.close().await.unwrap();
        remove_sqlite(&path);
    }

    #[tokio::test]
    async fn writes_that_wait_together_commit_together_and_fail_alone() {
        let (db, path) = temporary_sqlite().await;
        db.execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id), v TEXT UNIQUE);",
        )
        .await
        .unwrap();
        let serving = Db::serving(db.clone());
        // Spawned on this test's one thread, all twenty wait before the first group starts.
        let writes: Vec<_> = (0..20)
            .map(|i| {
                let serving = serving.clone();
                let child = if i == 7 {
                    "v3".to_owned()
                } else {
                    format!("v{i}")
                };
                tokio::spawn(async move {
                    insert_parent(&serving, &format!("p{i}"), &[&child, &format!("w{i}")]).await
                })
            })
            .collect();
        let mut ids = Vec::new();
        for write in writes {
            ids.push(write.await.unwrap());
        }
        // The one that reused a taken value failed, and only it.
        let failed: Vec<_> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| id.is_err())
            .collect();
        assert_eq!(failed.len(), 1, "{ids:?}");
        let parents = rows(&db, "SELECT id, name FROM parent ORDER BY id").await;
        assert_eq!(parents.len(), 19);
        for (i, id) in ids.iter().enumerate() {
            let Ok(id) = id else { continue };
            let children = rows(
                &db,
                &format!("SELECT parent_id, v FROM child WHERE parent_id = {id} ORDER BY v"),
            )
            .await;
            let own: Vec<_> = children.iter().map(|(_, v)| v.as_str()).collect();
            assert!(own.contains(&format!("w{i}").as_str()), "{i}: {children:?}");
            assert!(parents.contains(&(*id, format!("p{i}"))), "{i}");
        }
        assert_eq!(rows(&db, "SELECT parent_id, v FROM child").await.len(), 38);
        db.close().await.unwrap();
        remove_sqlite(&path);
    }

    #[tokio::test]
    async fn a_group_that_cannot_commit_answers_every_write_with_an_error() {
        let (db, path) = temporary_sqlite().await;
        // A deferred foreign key is checked by COMMIT: one write naming a missing parent makes
        // its whole group's COMMIT fail.
        db.execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE other (name TEXT PRIMARY KEY);
             INSERT INTO other (name) VALUES ('a'), ('b'), ('d'), ('e');
             CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id),
                 v TEXT UNIQUE REFERENCES other (name) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await
        .unwrap();
        let serving = Db::serving(db.clone());
        // Spawned on this test's one thread, all five wait before the group starts; only the
        // third names a missing `other` row.
        let writes: Vec<_> = ["a", "b", "missing", "d", "e"]
            .into_iter()
            .enumerate()
            .map(|(i, other)| {
                let serving = serving.clone();
                tokio::spawn(
                    async move { insert_parent(&serving, &format!("p{i}"), &[other]).await },
                )
            })
            .collect();
        for write in writes {
            let outcome = write.await.unwrap();
            assert!(
                outcome.is_err(),
                "answered before a COMMIT that failed: {outcome:?}"
            );
        }
        assert!(rows(&db, "SELECT id, name FROM parent").await.is_empty());
        // The writer is usable afterwards: its next group commits.
        let next = insert_parent(&serving, "next", &["a"]).await.unwrap();
        assert_eq!(
            rows(&db, "SELECT id, name FROM parent").await,
            [(next, "next".into())]
        );
        db.close().await.unwrap();
        remove_sqlite(&path);
    }
}
