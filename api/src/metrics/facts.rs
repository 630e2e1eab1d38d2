//! What the metrics count, read per window: each read is one grouped statement over an
//! index that starts with the window's timestamp (migration 18), answering a few rows per
//! partner, never a row per deal. Durations come back as histograms of whole days or hours.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ContentEventKind, DealStatus, OpportunityStage, PartnerStatus, PartnerType};
use entity::{
    certification, content_event, course_completion, deal_registration as deal,
    direct_opportunity as opportunity, opportunity_influence as influence, partner,
    partner_vertical, user,
};
use sea_orm::sea_query::{Alias, Expr, Func, SimpleExpr};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter,
    QuerySelect, Select,
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

/// A partner as the metrics count it, and (when a report filters or groups by them) its
/// attributes.
#[derive(Debug, Clone)]
pub struct PartnerFacts {
    pub id: i64,
    pub status: PartnerStatus,
    pub started_on: Option<NaiveDate>,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub about: Option<About>,
}

/// What a report filters and groups partners by.
#[derive(Debug, Clone)]
pub struct About {
    pub name: String,
    pub tier_id: Option<i64>,
    pub partner_type: PartnerType,
    pub region: Option<String>,
    pub verticals: Vec<String>,
}

/// Every partner, with its attributes when `with_about` (a program has thousands: one read
/// of each table; without attributes, a third of the columns and no verticals, 43 → ~15 ms
/// for 20,000 partners on SQLite).
pub async fn partners(db: &impl ConnectionTrait, with_about: bool) -> AppResult<Vec<PartnerFacts>> {
    type Row = (i64, PartnerStatus, Option<NaiveDate>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = partner::Entity::find()
        .select_only()
        .column(partner::Column::Id)
        .column(partner::Column::Status)
        .column(partner::Column::PartnershipStartedOn)
        .column(partner::Column::StatusChangedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut abouts = if with_about {
        abouts(db).await?
    } else {
        std::collections::HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|(id, status, started_on, status_changed_at)| PartnerFacts {
            id,
            status,
            started_on,
            status_changed_at,
            about: abouts.remove(&id),
        })
        .collect())
}

async fn abouts(db: &impl ConnectionTrait) -> AppResult<std::collections::HashMap<i64, About>> {
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
    type Row = (i64, String, Option<i64>, PartnerType, Option<String>);
    let rows: Vec<Row> = partner::Entity::find()
        .select_only()
        .column(partner::Column::Id)
        .column(partner::Column::Name)
        .column(partner::Column::TierId)
        .column(partner::Column::PartnerType)
        .column(partner::Column::Region)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, tier_id, partner_type, region)| {
            let about = About {
                name,
                tier_id,
                partner_type,
                region,
                verticals: by_partner.remove(&id).unwrap_or_default(),
            };
            (id, about)
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

/// A histogram read: (partner or 0 when not by partner, value, count).
pub type Bins = Vec<(i64, i64, i64)>;

/// Won and lost registrations closed in the window: (partner, won, currency, count, Σ
/// closed), and the histogram of whole days from submission to close, in one pass.
/// Only won and lost registrations have a close time, so the window alone selects them: a
/// status condition makes SQLite walk the status index over every won deal instead of the
/// window's range (233 ms against 43 ms for a year of a 200,000-registration program).
pub async fn closed(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<(Vec<(i64, bool, String, i64, i64)>, Bins)> {
    let backend = db.get_database_backend();
    let days = elapsed(backend, "submitted_at", "closed_at", 86_400);
    let select = partner_first(
        deal::Entity::find(),
        col(deal::Column::PartnerId),
        by_partner,
    )
    .column(deal::Column::Status)
    .column(deal::Column::Currency)
    .column_as(days.clone(), "days")
    .column_as(count(), "n")
    .column_as(sum("closed_amount_minor"), "amount")
    .filter(in_window(deal::Column::ClosedAt, window))
    .group_by(deal::Column::Status)
    .group_by(deal::Column::Currency)
    .group_by(days);
    let rows: Vec<(i64, DealStatus, String, Option<i64>, i64, i64)> = scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums: BTreeMap<(i64, bool, String), (i64, i64)> = BTreeMap::new();
    let mut bins = Bins::new();
    for (p, status, currency, days, n, amount) in rows {
        if !matches!(status, DealStatus::Won | DealStatus::Lost) {
            continue;
        }
        let won = status == DealStatus::Won;
        let entry = sums.entry((p, won, currency)).or_default();
        entry.0 += n;
        entry.1 += amount;
        if let Some(days) = days {
            bins.push((p, days, n));
        }
    }
    let closed = sums
        .into_iter()
        .map(|((p, won, currency), (n, amount))| (p, won, currency, n, amount))
        .collect();
    Ok((closed, bins))
}

/// The partner column `p` first (grouped by it), or 0 for all partners together: a report
/// of the whole program needs no row per partner (a year's content events by partner are
/// 40,000 rows and 92 ms on SQLite at 200,000 registrations; together, two rows and 37 ms).
fn partner_first<E: EntityTrait>(
    select: Select<E>,
    partner: SimpleExpr,
    by_partner: bool,
) -> Select<E> {
    let select = select.select_only();
    if by_partner {
        select.column_as(partner.clone(), "p").group_by(partner)
    } else {
        select.column_as(Expr::cust("CAST(0 AS BIGINT)"), "p")
    }
}

/// Registrations first decided in the window: (partner, approved, count), and the
/// histogram of whole hours from submission to that decision, in one pass.
pub async fn decided(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<(Vec<(i64, bool, i64)>, Bins)> {
    let backend = db.get_database_backend();
    let approved = Expr::cust("CASE WHEN approved_at IS NULL THEN 0 ELSE 1 END");
    let hours = elapsed(backend, "submitted_at", "decided_at", 3_600);
    let select = partner_first(
        deal::Entity::find(),
        col(deal::Column::PartnerId),
        by_partner,
    )
    .column_as(approved.clone(), "approved")
    .column_as(hours.clone(), "hours")
    .column_as(count(), "n")
    .filter(in_window(deal::Column::DecidedAt, window))
    .group_by(approved)
    .group_by(hours);
    let rows: Vec<(i64, i32, Option<i64>, i64)> = scope
        .narrow(backend, select, col(deal::Column::PartnerId))
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: BTreeMap<(i64, bool), i64> = BTreeMap::new();
    let mut bins = Bins::new();
    for (p, approved, hours, n) in rows {
        *counts.entry((p, approved == 1)).or_default() += n;
        if let Some(hours) = hours {
            bins.push((p, hours, n));
        }
    }
    Ok((
        counts.into_iter().map(|((p, a), n)| (p, a, n)).collect(),
        bins,
    ))
}

/// Registrations submitted in the window, per partner.
pub async fn submitted(
    db: &impl ConnectionTrait,
    window: &Window,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<Vec<(i64, i64)>> {
    let backend = db.get_database_backend();
    let select = partner_first(
        deal::Entity::find(),
        col(deal::Column::PartnerId),
        by_partner,
    )
    .column_as(count(), "n")
    .filter(in_window(deal::Column::SubmittedAt, window));
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
    by_partner: bool,
) -> AppResult<Vec<(i64, ContentEventKind, i64)>> {
    let backend = db.get_database_backend();
    let select = partner_first(
        content_event::Entity::find(),
        col(content_event::Column::PartnerId),
        by_partner,
    )
    .column(content_event::Column::Kind)
    .column_as(count(), "n")
    .filter(in_window(content_event::Column::CreatedAt, window))
    .filter(content_event::Column::PartnerId.is_not_null())
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
    by_partner: bool,
) -> AppResult<Vec<(i64, i64)>> {
    let select = course_completion::Entity::find()
        .filter(in_window(course_completion::Column::CompletedAt, window));
    per_user_partner(
        db,
        select,
        course_completion::Column::UserId,
        scope,
        by_partner,
    )
    .await
}

/// The rows of `select` (a table of users' doings, `user_id` its user) counted per
/// partner of those users.
async fn per_user_partner<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    user_id: E::Column,
    scope: &Scope,
    by_partner: bool,
) -> AppResult<Vec<(i64, i64)>> {
    let backend = db.get_database_backend();
    let partner_of = Expr::col((user::Entity, user::Column::PartnerId));
    let select = partner_first(select, partner_of.clone().into(), by_partner)
        .column_as(count(), "n")
        .join(
            JoinType::InnerJoin,
            E::belongs_to(user::Entity)
                .from(user_id)
                .to(user::Column::Id)
                .into(),
        )
        .filter(partner_of.clone().is_not_null());
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
    by_partner: bool,
) -> AppResult<Vec<(i64, i64)>> {
    let select = certification::Entity::find()
        .filter(certification::Column::AwardedAt.lt(at))
        .filter(
            certification::Column::ExpiresAt
                .is_null()
                .or(certification::Column::ExpiresAt.gte(at)),
        );
    per_user_partner(db, select, certification::Column::UserId, scope, by_partner).await
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
    let found = wins(db, window, window.from, scope).await?;
    Ok(found.into_iter().map(|(partner, _, _)| partner).collect())
}

/// Each partner with a won registration closed in the window: its last win, and how many
/// it won since `since` (one pass over the window's range, as `closed`).
pub async fn wins(
    db: &impl ConnectionTrait,
    window: &Window,
    since: DateTime<Utc>,
    scope: &Scope,
) -> AppResult<Vec<(i64, DateTime<Utc>, i64)>> {
    let backend = db.get_database_backend();
    let won = || Expr::col(deal::Column::Status).eq(DealStatus::Won.to_value());
    let last = Func::max(
        Expr::case(won(), Expr::col(deal::Column::ClosedAt))
            .finally(Expr::val(None::<DateTime<Utc>>)),
    );
    let recent = Func::sum(
        Expr::case(won().and(Expr::col(deal::Column::ClosedAt).gte(since)), 1).finally(0),
    );
    let select = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column_as(SimpleExpr::from(last), "last")
        .column_as(
            SimpleExpr::from(Func::cast_as(recent, Alias::new("BIGINT"))),
            "recent",
        )
        .filter(in_window(deal::Column::ClosedAt, window))
        .group_by(deal::Column::PartnerId)
        .having(Expr::cust(
            "SUM(CASE WHEN status = 'WON' THEN 1 ELSE 0 END) > 0",
        ));
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
    per_user_partner(db, select, session::Column::UserId, scope, true).await
}
