//! The health signals of many partners at once, as of a moment: one grouped read per
//! signal and window (the metrics' own fact reads), whatever the number of partners.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::enums::ContentEventKind;

use super::model::Signals;
use crate::error::AppResult;
use crate::metrics::facts::{self, Scope};
use crate::metrics::formulas::Window;

fn days_before(at: DateTime<Utc>, from: i64, to: i64) -> Window {
    Window {
        from: at - Duration::days(from),
        to: at - Duration::days(to),
    }
}

/// Every partner's signals as of `at` (partners with none get the default: all zero).
pub async fn read(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    at: DateTime<Utc>,
) -> AppResult<HashMap<i64, Signals>> {
    let recent = days_before(at, 90, 0);
    let before = days_before(at, 180, 90);
    let year_ago = at - Duration::days(365);
    let half_year = days_before(at, 180, 0);
    let two_years = days_before(at, 730, 0);
    let month = days_before(at, 30, 0);
    let month_before = days_before(at, 60, 30);
    // One read at a time, each folded in before the next: for the whole program each read
    // is a row per partner, and five of them at once (as they were, on the pool's
    // connections) were the refresh job's peak, every minute: at 20,000 partners, 70 s of
    // review queues (32 clients, one refresh) peaked at 111-114 MB RSS, and at 89-91 MB in
    // three runs of four (112 MB in one) with this order, with the change below.
    let mut all: HashMap<i64, Signals> = HashMap::new();
    for (p, n) in facts::submitted(db, &recent, scope, true).await? {
        all.entry(p).or_default().registrations_recent = n as u64;
    }
    for (p, n) in facts::submitted(db, &before, scope, true).await? {
        all.entry(p).or_default().registrations_before = n as u64;
    }
    let engaged = |kind: &ContentEventKind| kind != &ContentEventKind::Share;
    for (p, kind, n) in facts::content(db, &recent, scope, true).await? {
        if engaged(&kind) {
            all.entry(p).or_default().engagement_recent += n as u64;
        }
    }
    for (p, kind, n) in facts::content(db, &before, scope, true).await? {
        if engaged(&kind) {
            all.entry(p).or_default().engagement_before += n as u64;
        }
    }
    for (p, n) in facts::completions(db, &half_year, scope, true).await? {
        all.entry(p).or_default().completions = n as u64;
    }
    let held_later: HashMap<i64, i64> =
        facts::certifications_at(db, at + Duration::days(60), scope, true)
            .await?
            .into_iter()
            .collect();
    for (p, n) in facts::certifications_at(db, at, scope, true).await? {
        let signals = all.entry(p).or_default();
        signals.certifications = n as u64;
        signals.certifications_expiring =
            (n - held_later.get(&p).copied().unwrap_or(0)).max(0) as u64;
    }
    for (p, last, recent) in facts::wins(db, &two_years, year_ago, scope).await? {
        let signals = all.entry(p).or_default();
        signals.days_since_last_win = Some((at - last).num_days().max(0));
        signals.wins_last_year = recent.max(0) as u64;
    }
    for (p, n) in facts::logins(db, &month, scope).await? {
        all.entry(p).or_default().logins_recent = n as u64;
    }
    for (p, n) in facts::logins(db, &month_before, scope).await? {
        all.entry(p).or_default().logins_before = n as u64;
    }
    Ok(all)
}
