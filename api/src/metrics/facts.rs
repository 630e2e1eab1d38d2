//! What the metrics count, read per window: each read is one grouped statement over an
//! index that starts with the window's timestamp (migration 18), answering a few rows per
//! partner, never a row per deal. Durations come back as histograms of whole days or hours.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ContentEventKind, DealStatus, OpportunityStage, PartnerStatus, PartnerType};
use entity::{
    certification, content_event, course_completion, deal_registration as deal,
    direct_opportunity as opportunity, opportunity_influence as influence, partner,
    partner_vertical, user,
};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter, QuerySelect,
    Select,
};

use super::formulas::Window;
use crate::error::AppResult;

/// Which partners' facts to read: all of them, or these.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Only(Vec<i64>),
}

impl Scope {
    fn narrow<E: EntityTrait>(
        &self,
        backend: DbBackend,
        select: Select<E>,
        column: SimpleExpr,
    ) -> Select<E> {
        match self {
            Scope::All => select,
            Scope::Only(ids) => select.filter(crate::db::in_ids(backend, column, ids)),
        }
    }
}

/// A partner as the metrics group it.
#[derive(Debug, Clone)]
pub struct PartnerFacts {
    pub id: i64,
    pub name: String,
    pub tier_id: Option<i64>,
    pub partner_type: PartnerType,
    pub region: Option<String>,
    pub verticals: Vec<String>,
    pub status: PartnerStatus,
    pub started_on: Option<NaiveDate>,
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// Every partner with its verticals (a program has thousands: one read of each table).
pub async fn partners(db: &impl ConnectionTrait) -> AppResult<Vec<PartnerFacts>> {
    let verticals: Vec<(i64, String)> = partner_vertical::Entity::find()
        .select_only()
        .column(partner_vertical::Column::PartnerId)
        .column(partner_vertical::Column::Vertical)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_partner: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for (id, vertical) in verticals {
        by_partner.entry(id).or_default().push(vertical);
    }
    let rows = partner::Entity::find().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|p| PartnerFacts {
            id: p.id,
            name: p.name,
            tier_id: p.tier_id,
            partner_type: p.partner_type,
            region: p.region,
            verticals: by_partner.remove(&p.id).unwrap_or_default(),
            status: p.status,
            started_on: p.partnership_started_on,
            status_changed_at: p.status_changed_at,
        })
        .collect())
}

fn col(column: impl sea_orm::IdenStatic) -> SimpleExpr {
    Expr::col(column).into()
}

fn count() -> SimpleExpr {
    Expr::cust("COUNT(*)")
}

fn in_window(column: impl ColumnTrait, window: &Window) -> SimpleExpr {
    column.gte(window.from).and(column.lt(window.to))
}

/// Whole units (`unit_seconds`) from `start` to `end`, rounded down.
fn elapsed(backend: DbBackend, start: &str, end: &str, unit_seconds: i64) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!(
            "CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / {unit_seconds}) AS BIGINT)"
        )),
        _ => Expr::cust(format!(
            "CAST((julianday({end}) - julianday({start})) * {} AS INTEGER)",
            86_400 / unit_seconds
        )),
    }
}

/// A sum of a BIGINT column as BIGINT (PostgreSQL's SUM of BIGINT is NUMERIC).
fn sum(column: &str) -> SimpleExpr {
    Expr::cust(format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}

/// Won and lost registrations closed in the window: partner, won, currency, count, Σ closed.
pub async fn closed(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, bool, String, i64, i64)>> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(
            Expr::cust("CASE WHEN status = 'WON' THEN 1 ELSE 0 END"),
            "won",
        )
        .column(deal::Column::Currency)
        .column_as(count(), "n")
        .column_as(sum("closed_amount_minor"), "amount")
        .filter(in_window(deal::Column::ClosedAt, window))
        .filter(deal::Column::Status.is_in([DealStatus::Won, DealStatus::Lost]))
        .group_by(deal::Column::PartnerId)
        .group_by(Expr::cust("CASE WHEN status = 'WON' THEN 1 ELSE 0 END"))
        .group_by(deal::Column::Currency);
    let rows: Vec<(i64, i32, String, i64, i64)> = scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(p, won, c, n, a)| (p, won == 1, c, n, a))
        .collect())
}

/// A histogram read: (partner or 0 when not by partner, value, count).
type Bins = Vec<(i64, i64, i64)>;

async fn histogram<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    partner: SimpleExpr,
    value: SimpleExpr,
    by_partner: bool,
    scope: &Scope,
) -> AppResult<Bins> {
    let backend = db.get_database_backend();
    let mut select = select.select_only();
    if by_partner {
        select = select
            .column_as(partner.clone(), "p")
            .group_by(partner.clone());
    } else {
        select = select.column_as(Expr::cust("CAST(0 AS BIGINT)"), "p");
    }
    let select = select
        .column_as(value.clone(), "v")
        .column_as(count(), "n")
        .group_by(value);
    let rows: Vec<(i64, i64, i64)> = scope
        .narrow(backend, select, partner)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows)
}

/// Days from submission to close of the registrations won or lost in the window.
pub async fn close_days(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<Bins> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .filter(in_window(deal::Column::ClosedAt, window))
        .filter(deal::Column::Status.is_in([DealStatus::Won, DealStatus::Lost]))
        .filter(deal::Column::SubmittedAt.is_not_null());
    let days = elapsed(backend, "submitted_at", "closed_at", 86_400);
    histogram(
        db,
        select,
        col(deal::Column::PartnerId),
        days,
        by_partner,
        scope,
    )
    .await
}

/// Registrations first decided in the window: partner, approved, count.
pub async fn decided(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, bool, i64)>> {
    let backend = db.get_database_backend();
    let approved = Expr::cust("CASE WHEN approved_at IS NULL THEN 0 ELSE 1 END");
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(approved.clone(), "approved")
        .column_as(count(), "n")
        .filter(in_window(deal::Column::DecidedAt, window))
        .group_by(deal::Column::PartnerId)
        .group_by(approved);
    let rows: Vec<(i64, i32, i64)> = scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(p, a, n)| (p, a == 1, n)).collect())
}

/// Hours from submission to the first decision of registrations decided in the window.
pub async fn decision_hours(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<Bins> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .filter(in_window(deal::Column::DecidedAt, window))
        .filter(deal::Column::SubmittedAt.is_not_null());
    let hours = elapsed(backend, "submitted_at", "decided_at", 3_600);
    histogram(
        db,
        select,
        col(deal::Column::PartnerId),
        hours,
        by_partner,
        scope,
    )
    .await
}

/// Registrations submitted in the window, per partner.
pub async fn submitted(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, i64)>> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(count(), "n")
        .filter(in_window(deal::Column::SubmittedAt, window))
        .group_by(deal::Column::PartnerId);
    Ok(scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?)
}

/// Views and downloads of content by partner users in the window: partner, kind, count.
pub async fn content(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, ContentEventKind, i64)>> {
    let backend = db.get_database_backend();
    let select = content_event::Entity::find()
        .select_only()
        .column(content_event::Column::PartnerId)
        .column(content_event::Column::Kind)
        .column_as(count(), "n")
        .filter(in_window(content_event::Column::CreatedAt, window))
        .filter(content_event::Column::PartnerId.is_not_null())
        .group_by(content_event::Column::PartnerId)
        .group_by(content_event::Column::Kind);
    Ok(scope
        .narrow(backend, select, col(content_event::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?)
}

/// Course completions by partner users in the window, per partner.
pub async fn completions(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, i64)>> {
    let select = course_completion::Entity::find()
        .filter(in_window(course_completion::Column::CompletedAt, window));
    per_user_partner(db, select, course_completion::Column::UserId, scope).await
}

/// The rows of `select` (a table of users' doings, `user_id` its user) counted per
/// partner of those users.
async fn per_user_partner<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    user_id: E::Column,
    scope: &Scope,
) -> AppResult<Vec<(i64, i64)>> {
    let backend = db.get_database_backend();
    let partner_of = Expr::col((user::Entity, user::Column::PartnerId));
    let select = select
        .select_only()
        .column_as(partner_of.clone(), "p")
        .column_as(count(), "n")
        .join(
            JoinType::InnerJoin,
            E::belongs_to(user::Entity)
                .from(user_id)
                .to(user::Column::Id)
                .into(),
        )
        .filter(partner_of.clone().is_not_null())
        .group_by(partner_of.clone());
    Ok(scope
        .narrow(backend, select, partner_of.into())
        .into_tuple()
        .all(db)
        .await?)
}

/// Certifications held by partner users at `at` (awarded before it, not expired), per partner.
pub async fn certifications_at(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    scope: &Scope,
) -> AppResult<Vec<(i64, i64)>> {
    let select = certification::Entity::find()
        .filter(certification::Column::AwardedAt.lt(at))
        .filter(
            certification::Column::ExpiresAt
                .is_null()
                .or(certification::Column::ExpiresAt.gte(at)),
        );
    per_user_partner(db, select, certification::Column::UserId, scope).await
}

/// Direct opportunities won in the window: id, currency, amount.
pub async fn won_opportunities(
    db: &impl ConnectionTrait,
    window: &Window,
) -> AppResult<Vec<(i64, String, i64)>> {
    Ok(opportunity::Entity::find()
        .select_only()
        .column(opportunity::Column::Id)
        .column(opportunity::Column::Currency)
        .column(opportunity::Column::AmountMinor)
        .filter(in_window(opportunity::Column::ClosedAt, window))
        .filter(opportunity::Column::Stage.eq(OpportunityStage::Won))
        .into_tuple()
        .all(db)
        .await?)
}

/// The partners that influenced these opportunities: opportunity, partner.
pub async fn influences_of(
    db: &impl ConnectionTrait,
    opportunity_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    if opportunity_ids.is_empty() {
        return Ok(vec![]);
    }
    let backend = db.get_database_backend();
    Ok(influence::Entity::find()
        .select_only()
        .column(influence::Column::OpportunityId)
        .column(influence::Column::PartnerId)
        .filter(crate::db::in_ids(
            backend,
            col(influence::Column::OpportunityId),
            opportunity_ids,
        ))
        .into_tuple()
        .all(db)
        .await?)
}

/// Each partner's first won registration (when any), for these partners.
pub async fn first_wins(
    db: &impl ConnectionTrait,
    partner_ids: &[i64],
) -> AppResult<Vec<(i64, DateTime<Utc>)>> {
    if partner_ids.is_empty() {
        return Ok(vec![]);
    }
    let backend = db.get_database_backend();
    Ok(deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(Expr::cust("MIN(closed_at)"), "first")
        .filter(crate::deals::status_is(DealStatus::Won))
        .filter(crate::db::in_ids(
            backend,
            col(deal::Column::PartnerId),
            partner_ids,
        ))
        .group_by(deal::Column::PartnerId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The partners with a won registration closed in the window.
pub async fn producing(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<i64>> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .distinct()
        .filter(in_window(deal::Column::ClosedAt, window))
        .filter(crate::deals::status_is(DealStatus::Won));
    Ok(scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?)
}

/// Each partner's last won registration closed in the window.
pub async fn last_wins(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, DateTime<Utc>)>> {
    let backend = db.get_database_backend();
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(Expr::cust("MAX(closed_at)"), "last")
        .filter(in_window(deal::Column::ClosedAt, window))
        .filter(crate::deals::status_is(DealStatus::Won))
        .group_by(deal::Column::PartnerId);
    Ok(scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?)
}

/// Logins (sessions started) of partner users in the window, per partner.
pub async fn logins(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
) -> AppResult<Vec<(i64, i64)>> {
    use entity::session;
    let select = session::Entity::find().filter(in_window(session::Column::CreatedAt, window));
    per_user_partner(db, select, session::Column::UserId, scope).await
}
