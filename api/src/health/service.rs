//! Partner health: the model managers set, scores computed as of a moment for many
//! partners at once, and the daily snapshot job (once a day however many replicas run it)
//! that keeps each partner's history and announces band changes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{HealthBand, PartnerStatus};
use entity::{partner, partner_health_snapshot as snapshot, setting};
use sea_orm::sea_query::{Alias, Expr, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::model::{self, Band, Health, HealthModel};
use super::signals;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit_all, EventType, NewEvent};
use crate::metrics::facts::Scope;
use crate::relay::{UserError, UserErrorCode};

const MODEL_SETTING: &str = "health_model";
const SNAPSHOT_CLAIM: &str = "health_snapshot_day";
/// How far back `atRiskPartners` looks for the health a factor moved from.
pub const COMPARE_DAYS: i64 = 30;

pub async fn model(db: &impl ConnectionTrait) -> AppResult<HealthModel> {
    Ok(crate::settings::read(db, MODEL_SETTING)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// Replaces the model; scores follow at once (they are computed when read).
pub async fn set_model(
    db: &impl ConnectionTrait,
    new: HealthModel,
) -> AppResult<Result<HealthModel, Vec<UserError>>> {
    let problems = new.problems();
    if !problems.is_empty() {
        return Ok(Err(problems
            .into_iter()
            .map(|(field, message)| UserError::new(field, UserErrorCode::Invalid, message))
            .collect()));
    }
    let json = serde_json::to_string(&new).map_err(AppError::internal)?;
    crate::settings::store(db, MODEL_SETTING, &json).await?;
    Ok(Ok(new))
}

/// Whether a partner has a health: signed and not gone (onboarding partners are not yet
/// measured, terminated ones no longer).
pub fn is_measured(status: PartnerStatus) -> bool {
    matches!(status, PartnerStatus::Active | PartnerStatus::Dormant)
}

/// The health of every measured partner in `scope` as of `at`.
pub async fn health_of(
    db: &impl ConnectionTrait,
    scope: &Scope,
    at: DateTime<Utc>,
    model: &HealthModel,
) -> AppResult<HashMap<i64, Health>> {
    let (ids, signals) = tokio::try_join!(measured(db, scope), signals::read(db, scope, at))?;
    Ok(scored(ids, &signals, model))
}

/// Every measured partner and its signals, kept when they are fresh (then as of their
/// refresh), else read as of `now`; and the moment they are as of.
pub async fn program_signals(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<(DateTime<Utc>, Vec<i64>, HashMap<i64, model::Signals>)> {
    let (as_of, signals) = match super::refresh::fresh_as_of(db, now).await? {
        Some(as_of) => (as_of, super::refresh::kept_signals(db, None).await?),
        None => (now, signals::read(db, &Scope::All, now).await?),
    };
    Ok((as_of, measured(db, &Scope::All).await?, signals))
}

/// The health of these partners (those measured), from the kept signals when they are
/// fresh (then as of their refresh, as `atRiskPartners` ranks them), else as of `now`;
/// and the moment it is as of.
pub async fn current_health(
    db: &impl ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
    model: &HealthModel,
) -> AppResult<(DateTime<Utc>, HashMap<i64, Health>)> {
    let scope = Scope::Only(ids.to_vec());
    let Some(as_of) = super::refresh::fresh_as_of(db, now).await? else {
        return Ok((now, health_of(db, &scope, now, model).await?));
    };
    let (measured, signals) = tokio::try_join!(
        measured(db, &scope),
        super::refresh::kept_signals(db, Some(ids))
    )?;
    Ok((as_of, scored(measured, &signals, model)))
}

/// The measured partners in `scope`.
async fn measured(db: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<i64>> {
    let mut partners = partner::Entity::find()
        .select_only()
        .column(partner::Column::Id)
        .filter(partner::Column::Status.is_in([PartnerStatus::Active, PartnerStatus::Dormant]));
    if let Scope::Only(ids) = scope {
        partners = partners.filter(crate::db::in_ids(
            db.get_database_backend(),
            Expr::col(partner::Column::Id).into(),
            ids,
        ));
    }
    Ok(partners.into_tuple().all(db).await?)
}

/// Each partner's score from its signals (none: all zero).
fn scored(
    ids: Vec<i64>,
    signals: &HashMap<i64, model::Signals>,
    model: &HealthModel,
) -> HashMap<i64, Health> {
    let none = model::Signals::default();
    ids.into_iter()
        .map(|id| (id, model::score(signals.get(&id).unwrap_or(&none), model)))
        .collect()
}

pub fn stored_band(band: Band) -> HealthBand {
    match band {
        Band::Healthy => HealthBand::Healthy,
        Band::Watch => HealthBand::Watch,
        Band::AtRisk => HealthBand::AtRisk,
    }
}

/// The health a snapshot kept.
pub fn kept(row: &snapshot::Model) -> Option<Health> {
    serde_json::from_str(&row.factors)
        .ok()
        .map(|factors| Health {
            score: rust_decimal::Decimal::new(i64::from(row.score_hundredths), 2),
            band: match row.band {
                HealthBand::Healthy => Band::Healthy,
                HealthBand::Watch => Band::Watch,
                HealthBand::AtRisk => Band::AtRisk,
            },
            factors,
        })
}

/// Keeps, of the snapshots, each partner's latest from before `day`.
fn latest_before_filter(day: NaiveDate) -> sea_orm::sea_query::SimpleExpr {
    let s2 = Alias::new("s2");
    let latest = Query::select()
        .expr(Func::max(Expr::col((s2.clone(), snapshot::Column::Day))))
        .from_as(snapshot::Entity, s2.clone())
        .and_where(
            Expr::col((s2.clone(), snapshot::Column::PartnerId))
                .equals((snapshot::Entity, snapshot::Column::PartnerId)),
        )
        .and_where(Expr::col((s2, snapshot::Column::Day)).lt(day))
        .to_owned();
    Expr::col((snapshot::Entity, snapshot::Column::Day)).in_subquery(latest)
}

/// Each of `partner_ids`'s latest snapshot from before `day`.
async fn latest_before(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    partner_ids: &[i64],
) -> AppResult<HashMap<i64, snapshot::Model>> {
    Ok(snapshot::Entity::find()
        .filter(latest_before_filter(day))
        .filter(crate::db::in_ids(
            db.get_database_backend(),
            Expr::col((snapshot::Entity, snapshot::Column::PartnerId)).into(),
            partner_ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.partner_id, s))
        .collect())
}

/// Every partner's band on its latest snapshot from before `day`: only the band, since
/// the whole program's factors (about 1 KB a partner) are not needed to find a change.
async fn bands_before(
    db: &impl ConnectionTrait,
    day: NaiveDate,
) -> AppResult<HashMap<i64, HealthBand>> {
    let rows: Vec<(i64, HealthBand)> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::PartnerId)
        .column(snapshot::Column::Band)
        .filter(latest_before_filter(day))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The partners that already have a snapshot for `day`.
async fn taken_on(db: &impl ConnectionTrait, day: NaiveDate) -> AppResult<HashSet<i64>> {
    let ids: Vec<i64> = snapshot::Entity::find()
        .select_only()
        .column(snapshot::Column::PartnerId)
        .filter(snapshot::Column::Day.eq(day))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The health each of `partner_ids` had on its latest snapshot at least `COMPARE_DAYS`
/// before `today` (none for a partner without one that old).
pub async fn earlier(
    db: &impl ConnectionTrait,
    partner_ids: &[i64],
    today: NaiveDate,
) -> AppResult<HashMap<i64, (NaiveDate, Health)>> {
    if partner_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let cutoff = today - chrono::Duration::days(COMPARE_DAYS);
    let mut found: HashMap<i64, (NaiveDate, Health)> = HashMap::new();
    for (id, row) in latest_before(db, cutoff + chrono::Duration::days(1), partner_ids).await? {
        if let Some(health) = kept(&row) {
            found.insert(id, (row.day, health));
        }
    }
    Ok(found)
}

/// Writes `day`'s snapshot of every measured partner as of `at`, and an event for each
/// partner whose band differs from its previous snapshot's. A partner that already has a
/// snapshot for `day` keeps it. Returns how many were written. The signals are the kept
/// ones when they are fresh at `at` (the health the program shows), else read as of `at`;
/// partners are scored and written `SNAPSHOT_CHUNK` at a time, so the job's memory does
/// not grow with the program beyond one small row per partner.
pub async fn write_snapshot(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> AppResult<usize> {
    let model = model(db).await?;
    let (_, mut ids, signals) = program_signals(db, at).await?;
    let (previous, taken) = (bands_before(db, day).await?, taken_on(db, day).await?);
    ids.retain(|id| !taken.contains(id));
    ids.sort_unstable();
    let none = model::Signals::default();
    let mut written = 0;
    for chunk in ids.chunks(SNAPSHOT_CHUNK) {
        let healths: Vec<(i64, Health)> = chunk
            .iter()
            .map(|id| (*id, model::score(signals.get(id).unwrap_or(&none), &model)))
            .collect();
        written += write_snapshot_rows(db, day, at, &healths).await?;
        let changes = healths
            .iter()
            .filter_map(|(id, health)| {
                let band = stored_band(health.band);
                let before = previous.get(id).filter(|before| **before != band)?;
                Some(band_changed(*id, *before, band, health, day))
            })
            .collect::<Vec<_>>();
        if !changes.is_empty() {
            emit_all(db, changes).await?;
        }
    }
    Ok(written)
}

/// Rows per snapshot insert (6 values a row).
const SNAPSHOT_CHUNK: usize = 1_000;

async fn write_snapshot_rows(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    at: DateTime<Utc>,
    healths: &[(i64, Health)],
) -> AppResult<usize> {
    let mut rows = Vec::with_capacity(healths.len());
    for (id, health) in healths {
        rows.push(snapshot::ActiveModel {
            partner_id: Set(*id),
            day: Set(day),
            score_hundredths: Set((health.score * rust_decimal::Decimal::from(100))
                .round()
                .try_into()
                .unwrap_or(0)),
            band: Set(stored_band(health.band)),
            factors: Set(serde_json::to_string(&health.factors).map_err(AppError::internal)?),
            created_at: Set(at),
            ..Default::default()
        });
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let inserted = snapshot::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([snapshot::Column::PartnerId, snapshot::Column::Day])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(usize::try_from(inserted).unwrap_or(usize::MAX))
}

fn band_changed(
    id: i64,
    from: HealthBand,
    to: HealthBand,
    health: &Health,
    day: NaiveDate,
) -> NewEvent {
    NewEvent {
        ty: EventType::PartnerHealthChanged,
        subject_id: id,
        partner_id: Some(id),
        data: json!({
            "id": crate::relay::global_id(crate::partners::NODE_KIND, id).to_string(),
            "from": sea_orm::ActiveEnum::to_value(&from),
            "to": sea_orm::ActiveEnum::to_value(&to),
            "score": health.score,
            "day": day,
        }),
    }
}

/// Today's snapshot, if no replica took it yet: the claim (a compare-and-set on a
/// setting) and the rows commit together, so a replica that fails leaves it to the next.
/// `None` when another replica already took the day.
pub async fn snapshot(db: &Db, at: DateTime<Utc>) -> AppResult<Option<usize>> {
    let day = at.date_naive();
    setting::Entity::insert(setting::ActiveModel {
        key: Set(SNAPSHOT_CLAIM.to_owned()),
        value: Set(String::new()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let txn = crate::db::begin_write(db).await?;
    let claimed = setting::Entity::update_many()
        .col_expr(setting::Column::Value, Expr::value(day.to_string()))
        .filter(setting::Column::Key.eq(SNAPSHOT_CLAIM))
        .filter(setting::Column::Value.lt(day.to_string()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let written = write_snapshot(&txn, day, at).await?;
    txn.commit().await?;
    Ok(Some(written))
}
