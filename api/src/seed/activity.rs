//! The generated partners' course over time, for the metrics and health: most are steady,
//! one in ten grows (its registrations, content use and logins crowd into recent months) and
//! one in ten goes dark (they thin out towards today). Content views and downloads and
//! logins are generated for every partner in proportion to its activity.

use chrono::{DateTime, Duration, Utc};
use entity::content_event;
use entity::enums::ContentEventKind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveValue::Set, DatabaseConnection};

use super::{bar, insert_all, GeneratedPartner, SeedOptions, DAY_SECONDS};
use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Steady,
    Growing,
    GoingDark,
}

/// The `index`-th generated partner's trend.
pub fn trend_of(index: usize) -> Trend {
    match index % 10 {
        3 => Trend::GoingDark,
        7 => Trend::Growing,
        _ => Trend::Steady,
    }
}

/// How many days ago something of a partner with `trend` happened, within `span` days:
/// uniform when steady, crowding towards today when growing, thinning towards today when
/// going dark.
pub fn age_days(rng: &mut ChaCha8Rng, trend: Trend, span: i64) -> i64 {
    let u: f64 = rng.gen_range(0.0..1.0);
    let share = match trend {
        Trend::Steady => u,
        Trend::Growing => u * u,
        Trend::GoingDark => u.sqrt(),
    };
    ((share * span as f64) as i64).min(span - 1)
}

fn moment(rng: &mut ChaCha8Rng, now: DateTime<Utc>, trend: Trend, span: i64) -> DateTime<Utc> {
    now - Duration::seconds(
        age_days(rng, trend, span) * DAY_SECONDS + rng.gen_range(0..DAY_SECONDS),
    )
}

/// Content events over the last year and logins over the last four months, per partner:
/// the busiest partners (first in activity order) most. Returns the rows written.
pub async fn seed_activity(
    db: &DatabaseConnection,
    rng: &mut ChaCha8Rng,
    options: &SeedOptions,
    partners: &[GeneratedPartner],
) -> AppResult<u64> {
    let contents = crate::demo::history::partner_content_ids(db).await?;
    if contents.is_empty() || partners.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    // As many content events as registrations, spread like them (a power law over partners).
    let budget = options.registrations as f64;
    let norm: f64 = (1..=partners.len()).map(|r| (r as f64).powf(-0.9)).sum();
    let (mut events, mut sessions) = (Vec::new(), Vec::new());
    for (rank, partner) in partners.iter().enumerate() {
        let share = ((rank + 1) as f64).powf(-0.9) / norm;
        let views = (budget * share).round().max(2.0) as usize;
        for n in 0..views {
            events.push(content_event::ActiveModel {
                content_id: Set(contents[rng.gen_range(0..contents.len())]),
                user_id: Set(partner.first_user),
                partner_id: Set(Some(partner.id)),
                kind: Set(if n % 4 == 0 {
                    ContentEventKind::Download
                } else {
                    ContentEventKind::View
                }),
                created_at: Set(moment(rng, now, partner.trend, 365)),
                ..Default::default()
            });
        }
        for n in 0..(views / 3).max(2) {
            let at = moment(rng, now, partner.trend, 120);
            sessions.push(crate::demo::history::ended_login(
                partner.first_user,
                at,
                format!("seed-{}-{n}", partner.id),
            ));
        }
    }
    let progress = bar(options, "activity", (events.len() + sessions.len()) as u64);
    let mut rows = insert_all(db, events, &progress).await?;
    rows += insert_all(db, sessions, &progress).await?;
    progress.finish();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn share_recent(trend: Trend) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let recent = (0..10_000)
            .filter(|_| age_days(&mut rng, trend, 730) < 180)
            .count();
        recent as f64 / 10_000.0
    }

    #[test]
    fn growing_partners_crowd_into_recent_months_and_dark_ones_thin_out() {
        let steady = share_recent(Trend::Steady);
        assert!(share_recent(Trend::Growing) > steady * 1.5);
        assert!(share_recent(Trend::GoingDark) < steady * 0.7);
    }
}
