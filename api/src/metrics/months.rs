//! The whole program's facts of each whole past month, computed once and kept (migration
//! 19). The API stamps facts with the current time, so a month's facts are settled once it
//! is over; the writes that reach into a past month anyway (an import or a seed with
//! historical times, a deleted registration) forget that month through triggers in their
//! own transaction, and the next report computes it again.
//!
//! A month is kept an hour after it ends, past any transaction that stamped a time in it
//! before midnight and commits after. Keeping a month and forgetting it cannot interleave:
//! on SQLite both are writes (one at a time); on PostgreSQL the keeper locks the table
//! against the triggers' deletes before it reads the month.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::enums::ContentEventKind;
use entity::metric_month_fact as fact;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::facts::Scope;
use super::formulas::{month_start, Window};
use super::window::WindowFacts;
use crate::db::Db;
use crate::error::AppResult;

/// How long after its end a month is kept.
const SETTLED: Duration = Duration::hours(1);
/// Rows per insert statement (7 values a row, well under SQLite's 32,766 parameters).
const CHUNK: usize = 1_000;

/// Whether `window` is one whole calendar month (UTC).
pub fn is_whole(window: &Window) -> bool {
    window.from == month_start(window.from) && window.to == next_month(window.from)
}

fn next_month(start: DateTime<Utc>) -> DateTime<Utc> {
    month_start(month_start(start) + Duration::days(32))
}

/// Whether `window` is a whole month that may be kept at `now`.
pub fn is_keepable(window: &Window, now: DateTime<Utc>) -> bool {
    is_whole(window) && window.to + SETTLED <= now
}

/// The kept facts of these whole past months (by their start), keeping those not kept yet.
pub async fn facts_of(
    db: &Db,
    months: &[DateTime<Utc>],
) -> AppResult<HashMap<DateTime<Utc>, WindowFacts>> {
    if months.is_empty() {
        return Ok(HashMap::new());
    }
    let days: Vec<NaiveDate> = months.iter().map(|m| m.date_naive()).collect();
    let mut found = read(db, &days).await?;
    for month in months {
        if !found.contains_key(month) {
            let window = Window {
                from: *month,
                to: next_month(*month),
            };
            found.insert(*month, keep(db, &window).await?);
        }
    }
    Ok(found)
}

/// The kept months among `days`, in one statement (a month forgotten meanwhile is
/// missing whole: its rows go together).
async fn read(db: &Db, days: &[NaiveDate]) -> AppResult<HashMap<DateTime<Utc>, WindowFacts>> {
    let rows = fact::Entity::find()
        .filter(fact::Column::Month.is_in(days.iter().copied()))
        .all(db)
        .await?;
    let mut by_month: BTreeMap<NaiveDate, Vec<fact::Model>> = BTreeMap::new();
    for row in rows {
        by_month.entry(row.month).or_default().push(row);
    }
    Ok(by_month
        .into_iter()
        .filter(|(_, rows)| rows.iter().any(|r| r.fact == KEPT))
        .map(|(month, rows)| {
            let start = month.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            (start, from_rows(&rows))
        })
        .collect())
}

/// Computes a month's facts and keeps them (unless another replica just did).
async fn keep(db: &Db, window: &Window) -> AppResult<WindowFacts> {
    let txn = crate::db::begin_write(db).await?;
    crate::db::hold_off_writers(&txn, "metric_month_facts").await?;
    let facts = WindowFacts::counts(&txn, window, &Scope::All, false).await?;
    let rows = to_rows(window.from.date_naive(), &facts);
    for chunk in rows.chunks(CHUNK) {
        fact::Entity::insert_many(chunk.iter().cloned().map(active))
            .on_conflict(
                OnConflict::columns([
                    fact::Column::Month,
                    fact::Column::Fact,
                    fact::Column::Key,
                    fact::Column::Value,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(facts)
}

fn active(row: fact::Model) -> fact::ActiveModel {
    fact::ActiveModel {
        month: Set(row.month),
        fact: Set(row.fact),
        key: Set(row.key),
        value: Set(row.value),
        n: Set(row.n),
        amount: Set(row.amount),
        partner_ids: Set(row.partner_ids),
    }
}

const KEPT: &str = "kept";
const WON: &str = "won";
const LOST: &str = "lost";
const CLOSE_DAYS: &str = "closeDays";
const APPROVED: &str = "approved";
const REJECTED: &str = "rejected";
const DECISION_HOURS: &str = "decisionHours";
const SUBMITTED: &str = "submitted";
const CONTENT: &str = "content";
const COMPLETIONS: &str = "completions";
const PRODUCERS: &str = "producers";

/// A month's facts (of the whole program, partner 0) as rows, bins of equal value summed.
fn to_rows(month: NaiveDate, f: &WindowFacts) -> Vec<fact::Model> {
    let mut sums: BTreeMap<(&str, String, i64), (i64, i64)> = BTreeMap::new();
    let mut add = |fact: &'static str, key: String, value: i64, n: i64, amount: i64| {
        let entry = sums.entry((fact, key, value)).or_default();
        entry.0 += n;
        entry.1 += amount;
    };
    add(KEPT, String::new(), 0, 0, 0);
    for (_, won, currency, n, amount) in &f.closed {
        add(
            if *won { WON } else { LOST },
            currency.clone(),
            0,
            *n,
            *amount,
        );
    }
    for (_, days, n) in &f.close_days {
        add(CLOSE_DAYS, String::new(), *days, *n, 0);
    }
    for (_, approved, n) in &f.decided {
        add(
            if *approved { APPROVED } else { REJECTED },
            String::new(),
            0,
            *n,
            0,
        );
    }
    for (_, hours, n) in &f.decision_hours {
        add(DECISION_HOURS, String::new(), *hours, *n, 0);
    }
    for (_, n) in &f.submitted {
        add(SUBMITTED, String::new(), 0, *n, 0);
    }
    for (_, kind, n) in &f.content {
        add(CONTENT, kind.to_value(), 0, *n, 0);
    }
    for (_, n) in &f.completions {
        add(COMPLETIONS, String::new(), 0, *n, 0);
    }
    let mut rows: Vec<fact::Model> = sums
        .into_iter()
        .map(|((fact, key, value), (n, amount))| fact::Model {
            month,
            fact: fact.to_owned(),
            key,
            value,
            n,
            amount,
            partner_ids: String::new(),
        })
        .collect();
    let ids: Vec<String> = f.producing.iter().map(i64::to_string).collect();
    rows.push(fact::Model {
        month,
        fact: PRODUCERS.to_owned(),
        key: String::new(),
        value: 0,
        n: ids.len() as i64,
        amount: 0,
        partner_ids: ids.join(","),
    });
    rows
}

/// The facts a month's rows keep (what `to_rows` wrote).
fn from_rows(rows: &[fact::Model]) -> WindowFacts {
    let mut f = WindowFacts::default();
    for r in rows {
        match r.fact.as_str() {
            WON | LOST => f
                .closed
                .push((0, r.fact == WON, r.key.clone(), r.n, r.amount)),
            CLOSE_DAYS => f.close_days.push((0, r.value, r.n)),
            APPROVED | REJECTED => f.decided.push((0, r.fact == APPROVED, r.n)),
            DECISION_HOURS => f.decision_hours.push((0, r.value, r.n)),
            SUBMITTED => f.submitted.push((0, r.n)),
            CONTENT => {
                if let Ok(kind) = ContentEventKind::try_from_value(&r.key) {
                    f.content.push((0, kind, r.n));
                }
            }
            COMPLETIONS => f.completions.push((0, r.n)),
            PRODUCERS => f.producing.extend(
                r.partner_ids
                    .split(',')
                    .filter_map(|id| id.parse::<i64>().ok()),
            ),
            _ => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn only_whole_months_an_hour_past_are_kept() {
        let november = Window {
            from: at(2026, 11, 1, 0),
            to: at(2026, 12, 1, 0),
        };
        assert!(is_whole(&november));
        assert!(!is_keepable(&november, at(2026, 12, 1, 0)));
        assert!(is_keepable(&november, at(2026, 12, 1, 1)));
        let part = Window {
            from: at(2026, 11, 2, 0),
            to: at(2026, 12, 1, 0),
        };
        assert!(!is_whole(&part));
        let december = Window {
            from: at(2026, 12, 1, 0),
            to: at(2027, 1, 1, 0),
        };
        assert!(is_whole(&december));
    }

    #[test]
    fn a_month_reads_back_what_it_kept() {
        let facts = WindowFacts {
            closed: vec![
                (0, true, "USD".into(), 2, 500),
                (0, true, "USD".into(), 1, 100),
                (0, false, "EUR".into(), 3, 0),
            ],
            close_days: vec![(0, 4, 1), (0, 4, 2), (0, 9, 1)],
            decided: vec![(0, true, 5), (0, false, 1)],
            decision_hours: vec![(0, 30, 6)],
            submitted: vec![(0, 7)],
            content: vec![(0, ContentEventKind::View, 11)],
            completions: vec![(0, 2)],
            producing: [3, 8].into_iter().collect(),
            ..WindowFacts::default()
        };
        let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let back = from_rows(&to_rows(month, &facts));
        assert_eq!(back.closed.len(), 2);
        assert!(back.closed.contains(&(0, true, "USD".into(), 3, 600)));
        assert!(back.close_days.contains(&(0, 4, 3)));
        assert_eq!(back.decided.len(), 2);
        assert_eq!(back.submitted, vec![(0, 7)]);
        assert_eq!(back.content, vec![(0, ContentEventKind::View, 11)]);
        assert_eq!(back.producing, facts.producing);
    }
}
