//! Every measured partner's health signals, refreshed by a job and kept (migration 19), so
//! that ranking the whole program (`atRiskPartners`) reads one table instead of every
//! signal's activity rows. `Partner.health` reads the same kept signals, so a partner's
//! health is one thing at a time wherever it is shown, as of the refresh (`computedAt`).
//! Scores are still computed when read, with the model of that moment. A replica claims each refresh with a compare-and-set on a setting, so two
//! replicas do not both do the work; a refresh that runs twice anyway writes the same rows.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entity::{partner_health_signal as kept, setting};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::model::Signals;
use super::signals;
use crate::db::Db;
use crate::error::AppResult;
use crate::metrics::facts::Scope;

const CLAIM: &str = "health_signals_claimed_at";
const AS_OF: &str = "health_signals_at";
/// Kept signals older than this are not used: the live ones are read instead.
pub const FRESH_FOR: Duration = Duration::minutes(15);
/// Rows per insert statement (12 values a row).
const CHUNK: usize = 1_000;

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// When the kept signals were read, if they are fresh at `now`.
pub async fn fresh_as_of(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    let as_of = crate::settings::read(db, AS_OF)
        .await?
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|at| at.with_timezone(&Utc));
    Ok(as_of.filter(|at| *at > now - FRESH_FOR && *at <= now))
}

/// The kept signals of every partner (or of `only`) that has any (the others have none).
pub async fn kept_signals(
    db: &impl ConnectionTrait,
    only: Option<&[i64]>,
) -> AppResult<HashMap<i64, Signals>> {
    let mut select = kept::Entity::find();
    if let Some(ids) = only {
        select = select.filter(crate::db::in_ids(
            db.get_database_backend(),
            Expr::col(kept::Column::PartnerId).into(),
            ids,
        ));
    }
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.partner_id, signals_of(&row)))
        .collect())
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

fn signals_of(row: &kept::Model) -> Signals {
    Signals {
        registrations_recent: count(row.registrations_recent),
        registrations_before: count(row.registrations_before),
        engagement_recent: count(row.engagement_recent),
        engagement_before: count(row.engagement_before),
        completions: count(row.completions),
        certifications: count(row.certifications),
        certifications_expiring: count(row.certifications_expiring),
        days_since_last_win: row.days_since_last_win,
        wins_last_year: count(row.wins_last_year),
        logins_recent: count(row.logins_recent),
        logins_before: count(row.logins_before),
    }
}

fn row_of(partner_id: i64, s: &Signals) -> kept::ActiveModel {
    let n = |v: u64| Set(i64::try_from(v).unwrap_or(i64::MAX));
    kept::ActiveModel {
        partner_id: Set(partner_id),
        registrations_recent: n(s.registrations_recent),
        registrations_before: n(s.registrations_before),
        engagement_recent: n(s.engagement_recent),
        engagement_before: n(s.engagement_before),
        completions: n(s.completions),
        certifications: n(s.certifications),
        certifications_expiring: n(s.certifications_expiring),
        days_since_last_win: Set(s.days_since_last_win),
        wins_last_year: n(s.wins_last_year),
        logins_recent: n(s.logins_recent),
        logins_before: n(s.logins_before),
    }
}

/// Takes the refresh if no replica took one in the last `period`.
async fn claim(db: &Db, now: DateTime<Utc>, period: std::time::Duration) -> AppResult<bool> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(CLAIM.to_owned()),
        value: Set(String::new()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // A little under the period, so a replica's own next tick is never refused.
    let due = now - Duration::from_std(period).unwrap_or(FRESH_FOR) + Duration::seconds(5);
    let txn = crate::db::begin_write(db).await?;
    let claimed = setting::Entity::update_many()
        .col_expr(setting::Column::Value, Expr::value(stamp(now)))
        .filter(setting::Column::Key.eq(CLAIM))
        .filter(setting::Column::Value.lt(stamp(due)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(claimed.rows_affected == 1)
}

/// Reads every partner's signals as of `at` and keeps those that changed (and forgets
/// those that fell to none). Returns how many rows were written or removed.
pub async fn refresh(db: &Db, at: DateTime<Utc>) -> AppResult<usize> {
    let (now, before) =
        tokio::try_join!(signals::read(db, &Scope::All, at), kept_signals(db, None))?;
    // Ids first, rows a chunk at a time: at 20,000 partners the whole program's rows to
    // insert were about 10 MB held at once, a fresh replica's peak.
    let changed: Vec<i64> = now
        .iter()
        .filter(|(id, s)| before.get(id) != Some(s) && **s != Signals::default())
        .map(|(id, _)| *id)
        .collect();
    let gone: Vec<i64> = before
        .keys()
        .filter(|id| now.get(id).is_none_or(|s| *s == Signals::default()))
        .copied()
        .collect();
    drop(before);
    let txn = crate::db::begin_write(db).await?;
    for chunk in changed.chunks(CHUNK) {
        kept::Entity::insert_many(chunk.iter().map(|id| row_of(*id, &now[id])))
            .on_conflict(
                OnConflict::column(kept::Column::PartnerId)
                    .update_columns([
                        kept::Column::RegistrationsRecent,
                        kept::Column::RegistrationsBefore,
                        kept::Column::EngagementRecent,
                        kept::Column::EngagementBefore,
                        kept::Column::Completions,
                        kept::Column::Certifications,
                        kept::Column::CertificationsExpiring,
                        kept::Column::DaysSinceLastWin,
                        kept::Column::WinsLastYear,
                        kept::Column::LoginsRecent,
                        kept::Column::LoginsBefore,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in gone.chunks(CHUNK) {
        kept::Entity::delete_many()
            .filter(crate::db::in_ids(
                txn.get_database_backend(),
                Expr::col(kept::Column::PartnerId).into(),
                chunk,
            ))
            .exec(&txn)
            .await?;
    }
    crate::settings::store(&txn, AS_OF, &stamp(at)).await?;
    txn.commit().await?;
    Ok(changed.len() + gone.len())
}

/// One turn of the job that refreshes every `period`: the refresh, if this replica claims
/// it (how many rows it wrote), or `None`.
pub async fn run_once(
    db: &Db,
    now: DateTime<Utc>,
    period: std::time::Duration,
) -> AppResult<Option<usize>> {
    if !claim(db, now, period).await? {
        return Ok(None);
    }
    refresh(db, now).await.map(Some)
}
