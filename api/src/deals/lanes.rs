//! The review queue's lanes (migration 8): a registration awaiting a decision is in lane 0
//! when another partner holds an active registration for the same customer, else lane 1;
//! any other registration has no lane. The queue reads `(review_lane, submitted_at, id)`
//! from an index, so its first page costs the same however large the program grows.
//!
//! A lane depends on the other registrations of the customer, so every change to which
//! registrations are active recomputes the lanes of that customer's queue, under a lock
//! that makes concurrent writers for one customer take turns.

use entity::deal_registration::{self, Column};
use entity::enums::DealStatus;
use sea_orm::sea_query::{
    Alias, CaseStatement, Expr, Func, FunctionCall, Query, SelectStatement, SimpleExpr,
    UpdateStatement,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryTrait,
};

use super::service::ACTIVE;
use crate::error::AppResult;

/// Statuses that put a registration in the review queue.
pub const AWAITING: [DealStatus; 2] = [DealStatus::Submitted, DealStatus::UnderReview];

pub const COMPETING: i16 = 0;
pub const ALONE: i16 = 1;

/// Advisory lock class of "writers of one customer's registrations" (PostgreSQL).
const CUSTOMER_LOCK_CLASS: i32 = 7_001;

/// Whether a move from `from` to `to` changes the set of active registrations, and so
/// possibly a lane.
pub fn moves_lanes(from: Option<DealStatus>, to: DealStatus) -> bool {
    let active = |s: DealStatus| ACTIVE.contains(&s);
    from.is_some_and(active) || active(to)
}

/// Makes writers of the customer `key` take turns until the transaction ends, so the lanes
/// each computes see the others' registrations. Call it before the transaction's first
/// write: a writer holding row locks while it waits could deadlock with the holder.
/// SQLite needs nothing: `begin_write` already makes every writer wait for the last.
pub async fn lock_customer(txn: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let lock = Query::select().expr(customer_lock(key)).to_owned();
        txn.execute(DbBackend::Postgres.build(&lock)).await?;
    }
    Ok(())
}

/// `pg_advisory_xact_lock` of customer `key`'s writers.
fn customer_lock(key: &str) -> FunctionCall {
    Func::cust("pg_advisory_xact_lock").args([
        SimpleExpr::from(CUSTOMER_LOCK_CLASS),
        Func::cust("hashtext").arg(key).into(),
    ])
}

/// `SELECT values FROM pg_advisory_xact_lock(…)`: the values of a row to INSERT once the
/// customer `key`'s lock (`lock_customer`) is held, taken by the INSERT's own statement
/// (PostgreSQL). The lock's function in FROM runs before any row is produced, so the order
/// is the one `lock_customer` keeps: the lock, then the write.
pub fn under_customer_lock(key: &str, values: Vec<sea_orm::Value>) -> SelectStatement {
    Query::select()
        .exprs(values.into_iter().map(Expr::val))
        .from_function(customer_lock(key), Alias::new("customer_lock"))
        .to_owned()
}

/// Recomputes the lanes of customer `key`'s queue and of registration `moved` (which may
/// have just left it).
pub async fn refresh(txn: &impl ConnectionTrait, key: &str, moved: i64) -> AppResult<()> {
    set_lanes(txn, queue_of(key, moved), None).await
}

/// The UPDATE of `refresh`, setting `column` to `value` too (a submission's conflict score:
/// it is written with the submission's events, `events::emit_all_after`, a statement for
/// all three on the write partners' systems call hardest).
pub fn refresh_update(
    key: &str,
    moved: i64,
    (column, value): (Column, SimpleExpr),
) -> UpdateStatement {
    lanes_update(queue_of(key, moved), Some((column, value)))
}

/// Registration `moved`, and those of customer `key`'s queue whose lane changes. Most
/// moves change no other lane (the customer's queue is one partner's, or was already
/// contested), and a row updated to the lane it had would still be written again, with
/// every index of the table.
fn queue_of(key: &str, moved: i64) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Column::CustomerKey.eq(key))
                .add(Column::Status.is_in(AWAITING))
                .add(lane_changes()),
        )
        .add(Column::Id.eq(moved))
}

/// Recomputes every registration's lane (bulk loads such as `seed`).
pub async fn refresh_all(db: &impl ConnectionTrait) -> AppResult<()> {
    set_lanes(
        db,
        Condition::all()
            .add(Column::Status.is_in(AWAITING))
            .add(lane_changes()),
        None,
    )
    .await
}

/// The row's lane is not the one the rule gives it (no lane compared as -1).
fn lane_changes() -> SimpleExpr {
    let none = || Expr::val(-1);
    let kept = Func::coalesce([
        Expr::col((deal_registration::Entity, Column::ReviewLane)).into(),
        none().into(),
    ]);
    Expr::expr(kept).ne(Func::coalesce([lane(), none().into()]))
}

async fn set_lanes(
    db: &impl ConnectionTrait,
    scope: Condition,
    also: Option<(Column, SimpleExpr)>,
) -> AppResult<()> {
    let update = lanes_update(scope, also);
    db.execute(db.get_database_backend().build(&update)).await?;
    Ok(())
}

fn lanes_update(scope: Condition, also: Option<(Column, SimpleExpr)>) -> UpdateStatement {
    let mut update = deal_registration::Entity::update_many().col_expr(Column::ReviewLane, lane());
    if let Some((column, value)) = also {
        update = update.col_expr(column, value);
    }
    update.filter(scope).into_query()
}

/// `review_lane` of the row being updated, by the rule in the module comment.
fn lane() -> SimpleExpr {
    let awaiting =
        || Expr::col((deal_registration::Entity, Column::Status)).is_in(values(&AWAITING));
    CaseStatement::new()
        .case(
            awaiting().and(Expr::exists(competing())),
            Expr::val(COMPETING),
        )
        .case(awaiting(), Expr::val(ALONE))
        .finally(Expr::val(Option::<i16>::None))
        .into()
}

/// Another partner's active registration for the same customer as the outer row.
fn competing() -> SelectStatement {
    let other = Alias::new("other");
    Query::select()
        .expr(Expr::val(1))
        .from_as(deal_registration::Entity, other.clone())
        .and_where(
            Expr::col((other.clone(), Column::CustomerKey))
                .equals((deal_registration::Entity, Column::CustomerKey)),
        )
        .and_where(
            Expr::col((other.clone(), Column::PartnerId))
                .ne(Expr::col((deal_registration::Entity, Column::PartnerId))),
        )
        .and_where(Expr::col((other, Column::Status)).is_in(values(&ACTIVE)))
        .to_owned()
}

fn values(statuses: &[DealStatus]) -> Vec<sea_orm::Value> {
    statuses
        .iter()
        .map(ActiveEnum::to_value)
        .map(Into::into)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DealStatus::*;

    #[test]
    fn only_moves_into_or_out_of_active_statuses_touch_lanes() {
        assert!(moves_lanes(Some(Draft), Submitted));
        assert!(moves_lanes(Some(Submitted), UnderReview));
        assert!(moves_lanes(Some(Approved), Won));
        assert!(moves_lanes(Some(UnderReview), Returned));
        assert!(!moves_lanes(None, Draft));
        assert!(!moves_lanes(Some(Draft), Withdrawn));
        assert!(!moves_lanes(Some(Returned), Withdrawn));
    }
}
