//! Relay conventions shared by every domain: opaque global IDs, cursor connections with
//! `totalCount`, and the `userErrors` type of mutation payloads.

use async_graphql::ResultExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Enum, Object, OutputType, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, SelectModel, Selector, Value,
};

use crate::db::{Db, Fast, Prefixed, ReadRow, Shapes};
use crate::error::{AppError, AppResult};

pub const MAX_PAGE_SIZE: u64 = 100;
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// `base64url("Kind:id")`: opaque to clients, but it names its type so `node(id:)` works.
pub fn global_id(kind: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// The local id of an optional input reference to a `kind`, or the user error of `field`
/// when it names no such object.
pub fn optional_local_id(
    field: &str,
    id: Option<&ID>,
    kind: &str,
) -> Result<Option<i64>, Vec<UserError>> {
    match id {
        None => Ok(None),
        Some(id) => local_id(id, kind).map(Some).ok_or_else(|| {
            UserError::one(field, UserErrorCode::NotFound, format!("no such {kind}"))
        }),
    }
}

/// `(kind, id)` of a well-formed global ID.
pub fn decode_global_id(id: &str) -> Option<(String, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (kind, local) = text.split_once(':')?;
    Some((kind.to_owned(), local.parse().ok()?))
}

/// The local id if `id` is a global ID of `kind`.
pub fn local_id(id: &ID, kind: &str) -> Option<i64> {
    decode_global_id(id).and_then(|(k, local)| (k == kind).then_some(local))
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{id}"))
}

fn decode_cursor(cursor: &str) -> AppResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix("cursor:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::BadUserInput(format!("invalid cursor {cursor:?}")))
}

/// The four Relay arguments, as a resolver receives them.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Validated pagination: a window of at most `MAX_PAGE_SIZE` rows in id order.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    limit: u64,
    after: Option<i64>,
    before: Option<i64>,
    from_end: bool,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }

    /// The window for a list in `id` order: its size and its id cursors.
    pub fn validate(&self) -> AppResult<Page> {
        let (limit, from_end) = self.window()?;
        Ok(Page {
            limit,
            after: self.after.as_deref().map(decode_cursor).transpose()?,
            before: self.before.as_deref().map(decode_cursor).transpose()?,
            from_end,
        })
    }

    /// How many rows, and whether counted from the end (`last`): the cursors are read by
    /// whichever kind of list this is.
    fn window(&self) -> AppResult<(u64, bool)> {
        let size = |n: i32, name: &str| -> AppResult<u64> {
            if n < 0 || n as u64 > MAX_PAGE_SIZE {
                return Err(AppError::BadUserInput(format!(
                    "`{name}` must be between 0 and {MAX_PAGE_SIZE}"
                )));
            }
            Ok(n as u64)
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(AppError::BadUserInput(
                "pass either `first` or `last`, not both".into(),
            )),
            (Some(first), None) => Ok((size(first, "first")?, false)),
            (None, Some(last)) => Ok((size(last, "last")?, true)),
            (None, None) => Ok((DEFAULT_PAGE_SIZE, false)),
        }
    }
}

type CountFuture = Pin<Box<dyn Future<Output = AppResult<u64>> + Send>>;

/// Extra connection fields. `totalCount` runs its COUNT only when a client asks for it.
pub struct ConnectionFields {
    count: Arc<dyn Fn() -> CountFuture + Send + Sync>,
}

impl ConnectionFields {
    /// A `totalCount` already read.
    pub fn known(count: i64) -> Self {
        let count = u64::try_from(count).unwrap_or(0);
        ConnectionFields::counted_by(move || Box::pin(async move { Ok(count) }))
    }

    /// A `totalCount` that `count` answers when a client asks for it.
    pub fn counted_by<F>(count: F) -> Self
    where
        F: Fn() -> CountFuture + Send + Sync + 'static,
    {
        ConnectionFields {
            count: Arc::new(count),
        }
    }
}

#[Object]
impl ConnectionFields {
    /// How many items the whole list holds, across all pages.
    async fn total_count(&self) -> async_graphql::Result<i64> {
        let count = (self.count)().await.extend()?;
        Ok(count as i64)
    }
}

pub type RelayConnection<T> = Connection<String, T, ConnectionFields>;

/// Pages through `select` (already filtered to what the caller may see) in `id` order and
/// wraps the rows as `T`.
pub async fn paginate<E, C, T>(
    db: &Db,
    select: Select<E>,
    id_column: C,
    args: &PageArgs,
    id_of: fn(&E::Model) -> i64,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ColumnTrait,
    T: OutputType,
{
    paginate_by_id(db, select, id_column, args, id_of, to_node, false).await
}

/// `paginate`, newest (highest id) first: for logs read from their end.
pub async fn paginate_newest<E, C, T>(
    db: &Db,
    select: Select<E>,
    id_column: C,
    args: &PageArgs,
    id_of: fn(&E::Model) -> i64,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ColumnTrait,
    T: OutputType,
{
    paginate_by_id(db, select, id_column, args, id_of, to_node, true).await
}

async fn paginate_by_id<E, C, T>(
    db: &Db,
    select: Select<E>,
    id_column: C,
    args: &PageArgs,
    id_of: fn(&E::Model) -> i64,
    to_node: impl Fn(E::Model) -> T,
    newest_first: bool,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ColumnTrait,
    T: OutputType,
{
    let page = args.validate()?;
    let fields = count_fields(db, copies(&select));

    let mut window = select;
    if let Some(after) = page.after {
        window = window.filter(if newest_first {
            id_column.lt(after)
        } else {
            id_column.gt(after)
        });
    }
    if let Some(before) = page.before {
        window = window.filter(if newest_first {
            id_column.gt(before)
        } else {
            id_column.lt(before)
        });
    }
    window = if page.from_end != newest_first {
        window.order_by_desc(id_column)
    } else {
        window.order_by_asc(id_column)
    };
    let mut rows = window.limit(page.limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.from_end {
        rows.reverse();
    }
    // Relay lets a server answer `false` for the direction it cannot check cheaply;
    // a given cursor is only proof that the other direction has items.
    let (has_previous, has_next) = if page.from_end {
        (has_more, page.before.is_some())
    } else {
        (page.after.is_some(), has_more)
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, fields);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(id_of(&row)), to_node(row))),
    );
    Ok(connection)
}

/// Pages through rows already loaded (a small per-parent list that a DataLoader fetched for
/// many parents at once), in `id` order with the same cursors as `paginate`.
pub fn paginate_loaded<M, T>(
    mut rows: Vec<M>,
    args: &PageArgs,
    id_of: fn(&M) -> i64,
    to_node: impl Fn(M) -> T,
) -> AppResult<RelayConnection<T>>
where
    T: OutputType,
{
    let page = args.validate()?;
    let total = rows.len() as u64;
    rows.sort_by_key(id_of);
    rows.retain(|row| {
        let id = id_of(row);
        page.after.is_none_or(|after| id > after) && page.before.is_none_or(|before| id < before)
    });
    let has_more = rows.len() as u64 > page.limit;
    let limit = page.limit as usize;
    let window: Vec<M> = if page.from_end {
        let skip = rows.len().saturating_sub(limit);
        rows.into_iter().skip(skip).collect()
    } else {
        rows.into_iter().take(limit).collect()
    };
    let (has_previous, has_next) = if page.from_end {
        (has_more, page.before.is_some())
    } else {
        (page.after.is_some(), has_more)
    };
    let fields = ConnectionFields::counted_by(move || Box::pin(async move { Ok(total) }));
    let mut connection = Connection::with_additional_fields(has_previous, has_next, fields);
    connection.edges.extend(
        window
            .into_iter()
            .map(|row| Edge::new(encode_cursor(id_of(&row)), to_node(row))),
    );
    Ok(connection)
}

fn encode_offset_cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_offset_cursor(cursor: &str) -> AppResult<u64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::BadUserInput(format!("invalid cursor {cursor:?}")))
}

/// A `totalCount` that counts the rows of `list()`.
fn count_fields<E>(
    db: &Db,
    list: impl Fn() -> Select<E> + Send + Sync + 'static,
) -> ConnectionFields
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let count_db = db.clone();
    ConnectionFields::counted_by(move || {
        let select = list();
        let db = count_db.clone();
        Box::pin(async move { Ok(select.count(&db).await?) })
    })
}

/// A maker of copies of `select`.
fn copies<E: EntityTrait>(select: &Select<E>) -> impl Fn() -> Select<E> + Send + Sync + 'static
where
    E::Model: Send + Sync,
{
    let select = select.clone();
    move || select.clone()
}

/// Pages through a list in an order other than `id` (ranked lists, queues): cursors are
/// positions in `select`'s own order, which must be total (end it with the id).
pub async fn paginate_ordered<E, T>(
    db: &Db,
    select: Select<E>,
    args: &PageArgs,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    T: OutputType,
{
    paginate_ordered_as(db, select, args, to_node).await
}

/// `paginate_ordered`, each row decoded as `M` (a faster reader of the model, say).
pub async fn paginate_ordered_as<E, M, T>(
    db: &Db,
    select: Select<E>,
    args: &PageArgs,
    to_node: impl Fn(M) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    M: FromQueryResult + Send + Sync,
    T: OutputType,
{
    page_of(db, select, args, Select::into_model, to_node).await
}

/// A page's row and one more value read beside it, in the same statement.
pub struct Beside<M> {
    pub row: M,
    pub beside: Option<String>,
}

const BESIDE: &str = "beside";

impl<M: FromQueryResult> FromQueryResult for Beside<M> {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        Ok(Beside {
            row: M::from_query_result(row, prefix)?,
            beside: Prefixed::new(row, prefix).named(BESIDE)?,
        })
    }
}

/// `select` reading `beside` too, as the text that [`Beside`] decodes.
pub fn with_beside<E: EntityTrait>(select: Select<E>, beside: SimpleExpr) -> Select<E> {
    select.column_as(beside, BESIDE)
}

/// The page of `select` that `args` ask for, its rows decoded by `read`.
async fn page_of<E, M, T>(
    db: &Db,
    select: Select<E>,
    args: &PageArgs,
    read: impl FnOnce(Select<E>) -> Selector<SelectModel<M>>,
    to_node: impl Fn(M) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    M: FromQueryResult + Send + Sync,
    T: OutputType,
{
    let window = Window::of(db, || select.clone(), args).await?;
    let fields = count_fields(db, copies(&select));
    let rows = read(select.offset(window.offset).limit(window.limit + 1))
        .all(db)
        .await?;
    Ok(window.connection(rows, fields, to_node))
}

/// What a hot list needs to reuse its statement's text (`db::Shapes`) instead of building
/// it: which text its select has (`shape`, one per text the select can have) and the values
/// that select binds, in its order (`values`).
pub struct Shaped {
    pub shapes: &'static Shapes,
    pub shape: usize,
    pub values: Vec<Value>,
}

/// `paginate_ordered` for a hot list: `list` is built only for a shape not seen yet (and
/// for `totalCount`, or a page counted from the end); `read` adds the columns read beside
/// the rows, which are decoded as `M`.
pub async fn paginate_ordered_shaped<E, M, T>(
    db: &Db,
    list: impl Fn() -> Select<E> + Send + Sync + 'static,
    shaped: Shaped,
    args: &PageArgs,
    read: impl FnOnce(Select<E>) -> Select<E>,
    to_node: impl Fn(M) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    M: FromQueryResult + Send + Sync,
    T: OutputType,
{
    let list = Arc::new(list);
    let window = Window::of(db, || list(), args).await?;
    let fields = count_fields(db, {
        let list = list.clone();
        move || list()
    });
    let Shaped {
        shapes,
        shape,
        mut values,
    } = shaped;
    // sea-query binds a page's size before its offset.
    values.extend([Value::from(window.limit + 1), Value::from(window.offset)]);
    let statement = shapes.statement(db.get_database_backend(), shape, values, || {
        read(list())
            .offset(window.offset)
            .limit(window.limit + 1)
            .into_query()
    })?;
    let rows = M::find_by_statement(statement).all(db).await?;
    Ok(window.connection(rows, fields, to_node))
}

/// `paginate_ordered` for a list newest first (`id` descending), reading the page's ids
/// before its rows. Given `partner_id = $1 ORDER BY id DESC LIMIT n`, PostgreSQL's custom
/// plan for a partner with many rows walks the primary key backwards, expecting that
/// partner's rows to be spread evenly among the newest; when others wrote the newest
/// thousands, that walk reads them all (26,000 rows, 11-290 ms, on a 200,000 program). The
/// ids alone come from the filter's covering index on both databases (0.9 ms there).
pub async fn paginate_newest_first<E, T>(
    db: &Db,
    select: Select<E>,
    id: E::Column,
    args: &PageArgs,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: ReadRow + Send + Sync,
    T: OutputType,
{
    let fields = count_fields(db, copies(&select));
    paginate_newest_first_counted(db, select, id, args, to_node, None, fields).await
}

/// `paginate_newest_first` whose page statement also answers `total` when given: a scalar
/// subquery of a count the database keeps, for `totalCount`, one statement where a count
/// after the page is two. A page without rows carries no count: `fields` answers then.
pub async fn paginate_newest_first_counted<E, T>(
    db: &Db,
    select: Select<E>,
    id: E::Column,
    args: &PageArgs,
    to_node: impl Fn(E::Model) -> T,
    total: Option<SimpleExpr>,
    fields: ConnectionFields,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: ReadRow + Send + Sync,
    T: OutputType,
{
    let window = Window::of(db, || select.clone(), args).await?;
    let ids = select
        .select_only()
        .column(id)
        .order_by_desc(id)
        .offset(window.offset)
        .limit(window.limit + 1)
        .into_query();
    let page = E::find().filter(id.in_subquery(ids)).order_by_desc(id);
    read_page_counted(db, page, window, total, fields, to_node).await
}

/// `paginate_ordered` whose page statement also counts the list when `count` (the request
/// asks for `totalCount`): the count is a scalar subquery, which the database runs once, so
/// the list costs one statement where a count after the page is two. A page without rows
/// carries no count, and is counted on its own.
pub async fn paginate_ordered_counted<E, T>(
    db: &Db,
    select: Select<E>,
    args: &PageArgs,
    to_node: impl Fn(E::Model) -> T,
    count: bool,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: ReadRow + Send + Sync,
    T: OutputType,
{
    let window = Window::of(db, || select.clone(), args).await?;
    let fields = count_fields(db, copies(&select));
    let total = count.then(|| count_of(&select));
    let page = select.offset(window.offset).limit(window.limit + 1);
    read_page_counted(db, page, window, total, fields, to_node).await
}

/// How many rows `select` lists, as an expression: its ordering left out (an aggregate
/// cannot be ordered by the rows' columns on PostgreSQL).
fn count_of<E: EntityTrait>(select: &Select<E>) -> SimpleExpr {
    let mut listed = select.clone().into_query();
    listed.clear_order_by();
    crate::db::scalar(
        Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(listed, Alias::new("listed"))
            .to_owned(),
    )
}

/// The rows of `page`, with `total` read beside them when given (else `fields` counts).
async fn read_page_counted<E, T>(
    db: &Db,
    page: Select<E>,
    window: Window,
    total: Option<SimpleExpr>,
    fields: ConnectionFields,
    to_node: impl Fn(E::Model) -> T,
) -> AppResult<RelayConnection<T>>
where
    E: EntityTrait,
    E::Model: ReadRow + Send + Sync,
    T: OutputType,
{
    let Some(total) = total else {
        let rows = page.into_model::<Fast<E::Model>>().all(db).await?;
        return Ok(window.connection(rows, fields, |Fast(row)| to_node(row)));
    };
    let statement = page
        .expr_as(total, TOTAL_COLUMN)
        .build(db.get_database_backend());
    let rows = db.query_all(statement).await?;
    let fields = match rows.first() {
        Some(row) => ConnectionFields::known(row.try_get::<i64>("", TOTAL_COLUMN)?),
        None => fields,
    };
    let rows = rows
        .iter()
        .map(|row| E::Model::read_row(&Prefixed::new(row, "")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(window.connection(rows, fields, to_node))
}

/// The column a page's rows carry their list's total in (`paginate_newest_first_counted`).
const TOTAL_COLUMN: &str = "total_count";

/// The rows an offset-cursor page reads: from `offset`, `limit` of them (one more is read
/// to learn whether more follow), and where the requested range ends.
struct Window {
    offset: u64,
    limit: u64,
    end: u64,
}

impl Window {
    /// `list` is counted only for a page counted from the end without a `before` cursor.
    async fn of<E: EntityTrait>(
        db: &Db,
        list: impl FnOnce() -> Select<E>,
        args: &PageArgs,
    ) -> AppResult<Window>
    where
        E::Model: Send + Sync,
    {
        let (page_size, from_end) = args.window()?;
        let after = args
            .after
            .as_deref()
            .map(decode_offset_cursor)
            .transpose()?;
        let before = args
            .before
            .as_deref()
            .map(decode_offset_cursor)
            .transpose()?;
        let start = after.map_or(0, |a| a + 1);
        let end = match before {
            Some(before) => before,
            None if from_end => list().count(db).await?,
            None => u64::MAX,
        };
        let (offset, limit) = if from_end {
            let first = end.saturating_sub(page_size).max(start);
            (first, end.saturating_sub(first))
        } else {
            (start, page_size.min(end.saturating_sub(start)))
        };
        Ok(Window { offset, limit, end })
    }

    fn connection<M, T: OutputType>(
        &self,
        rows: Vec<M>,
        fields: ConnectionFields,
        to_node: impl Fn(M) -> T,
    ) -> RelayConnection<T> {
        let has_more_after = rows.len() as u64 > self.limit && self.offset + self.limit < self.end;
        let mut connection =
            Connection::with_additional_fields(self.offset > 0, has_more_after, fields);
        connection.edges.extend(
            rows.into_iter()
                .take(self.limit as usize)
                .enumerate()
                .map(|(i, row)| {
                    Edge::new(encode_offset_cursor(self.offset + i as u64), to_node(row))
                }),
        );
        connection
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserErrorCode {
    /// A required value is missing or blank.
    Required,
    /// The value is malformed or out of range.
    Invalid,
    /// The value must be unique and is already used.
    Taken,
    /// A referenced object does not exist or is not visible to the caller.
    NotFound,
    /// The object changed since the caller read it (`version` mismatch).
    StaleVersion,
    /// The workflow does not allow this transition from the current status.
    IllegalTransition,
    /// A business rule refuses the change.
    RuleViolation,
    /// A payment above what is payable.
    Overpayment,
}

/// An optional input field as a change: absent (`None`), set to null (`Some(None)`) or
/// set to a value.
pub fn maybe<T>(value: async_graphql::MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        async_graphql::MaybeUndefined::Undefined => None,
        async_graphql::MaybeUndefined::Null => Some(None),
        async_graphql::MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// A problem the caller can fix, reported in a mutation payload (nothing was changed).
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// The input field at fault (e.g. `name`, `tiers.1.min`), or null for the whole input.
    pub field: Option<String>,
    pub message: String,
    pub code: UserErrorCode,
}

impl UserError {
    /// A payload's `userErrors` for one problem.
    pub fn one(field: &str, code: UserErrorCode, message: impl Into<String>) -> Vec<UserError> {
        vec![UserError::new(field, code, message)]
    }

    pub fn new(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError {
            field: Some(field.to_owned()),
            message: message.into(),
            code,
        }
    }
}

/// A create sent again under an idempotency key: the object the key made, when the request
/// is the one first sent with it (`stored` is that request's hash), else the key's user error.
pub fn replayed<M>(
    found: M,
    stored: Option<&str>,
    hash: &str,
    what: &str,
) -> Result<M, Vec<UserError>> {
    if stored == Some(hash) {
        Ok(found)
    } else {
        Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Taken,
            format!("this key was used for a different {what}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_name_their_type() {
        let id = global_id("Partner", 42);
        assert_eq!(decode_global_id(&id), Some(("Partner".to_owned(), 42)));
        assert_eq!(local_id(&id, "Partner"), Some(42));
        assert_eq!(local_id(&id, "User"), None);
        assert_eq!(decode_global_id("not base64!"), None);
    }

    #[test]
    fn page_size_is_bounded() {
        let args = PageArgs::new(Some(101), None, None, None);
        assert!(args.validate().is_err());
        let args = PageArgs::new(Some(-1), None, None, None);
        assert!(args.validate().is_err());
        let args = PageArgs::new(Some(1), None, Some(1), None);
        assert!(args.validate().is_err());
        assert!(PageArgs::new(Some(100), None, None, None)
            .validate()
            .is_ok());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(7)).unwrap(), 7);
        assert!(decode_cursor("bogus").is_err());
    }
}
