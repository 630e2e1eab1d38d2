//! `hasConflicts`: every active registration keeps the best score among the parties it may
//! conflict with (`conflict_score`, migration 17; 0 when there are none), so a list filters
//! on it from an index and the bands can change without assessing anything again.
//!
//! A registration's conflicts change when a party around it changes, so each change
//! assesses again, in its own transaction, the registration and those its keys find:
//! - a submission stores the score its own conflict check found (a newer submission has
//!   no priority over anyone, so nobody else's conflicts change);
//! - any other status change (a review, an expiry) and a new account assess the
//!   registrations around the party again (a customer is edited only in a draft or a
//!   returned registration, which claims nothing);
//! - rows without a score (an upgrade, `seed`) are assessed at start-up.
//!
//! What drifts: how common a word is (its weight) moves as the program grows; a score is
//! as of the last change around its registration.

use entity::deal_registration::{self, Column};
use sea_orm::sea_query::{CaseStatement, Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::candidates::{
    account_customers, assess_registrations, registrations_near, registrations_near_account, Probe,
};
use super::service::ACTIVE;
use crate::db;
use crate::error::AppResult;

/// Registrations assessed per statement at start-up.
const BATCH: u64 = 200;

/// Stores each registration's score in one statement (`None` for one that is not active).
async fn store(db: &impl ConnectionTrait, scores: &[(i64, Option<f64>)]) -> AppResult<()> {
    if scores.is_empty() {
        return Ok(());
    }
    let mut case = CaseStatement::new();
    for (id, score) in scores {
        case = case.case(Column::Id.eq(*id), Expr::val(*score));
    }
    let ids: Vec<i64> = scores.iter().map(|(id, _)| *id).collect();
    let backend = db.get_database_backend();
    deal_registration::Entity::update_many()
        .col_expr(Column::ConflictScore, case.into())
        .filter(db::in_ids(backend, Expr::col(Column::Id).into(), &ids))
        .exec(db)
        .await?;
    Ok(())
}

/// Assesses registrations `ids` again: the active ones get their score, the others none.
async fn reassess(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let rows = deal_registration::Entity::find()
        .filter(db::in_ids(backend, Expr::col(Column::Id).into(), ids))
        .all(db)
        .await?;
    let (active, inactive): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|r| ACTIVE.contains(&r.status));
    let assessed = assess_registrations(db, &active).await?;
    let mut scores: Vec<(i64, Option<f64>)> = active
        .iter()
        .zip(&assessed)
        .map(|(registration, assessment)| (registration.id, Some(assessment.score)))
        .collect();
    scores.extend(
        inactive
            .iter()
            .filter(|r| r.conflict_score.is_some())
            .map(|r| (r.id, None)),
    );
    store(db, &scores).await
}

/// After `registration`'s status or customer changed, in that transaction: its own score
/// and those of the registrations around it.
pub async fn reassess_around(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
) -> AppResult<()> {
    let probe = Probe::without_products(registration);
    let mut ids = registrations_near(db, &probe).await?;
    ids.push(registration.id);
    reassess(db, &ids).await
}

/// After an account was created or changed, in that transaction: the scores of the
/// registrations around it.
pub async fn reassess_around_account(
    db: &impl ConnectionTrait,
    name: &str,
    country: Option<&str>,
    domains: &[&str],
) -> AppResult<()> {
    let customers = account_customers(name, country, domains);
    let ids = registrations_near_account(db, &customers).await?;
    reassess(db, &ids).await
}

/// `conflict_score` once a submission stores `score` for registration `id`, as the value of
/// an UPDATE that may touch other rows (they keep theirs): the submission writes it with
/// the statement that moves its customer's lanes (`lanes::refresh_update`).
pub fn submitted(id: i64, score: f64) -> SimpleExpr {
    CaseStatement::new()
        .case(Column::Id.eq(id), Expr::val(score))
        .finally(Expr::col((
            deal_registration::Entity,
            Column::ConflictScore,
        )))
        .into()
}

/// Assesses every active registration without a score (rows written before migration 17,
/// or by `seed`). Run at start-up; any number of replicas may run it at once (they store
/// the same scores).
pub async fn assess_unassessed(db: &impl ConnectionTrait) -> AppResult<u64> {
    let mut assessed = 0;
    loop {
        let ids: Vec<i64> = deal_registration::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Status.is_in(ACTIVE))
            .filter(Column::ConflictScore.is_null())
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(assessed);
        }
        assessed += ids.len() as u64;
        reassess(db, &ids).await?;
    }
}
