//! The facts of one window, per partner (or for the whole program together): read from
//! the activity tables, or for the whole program assembled from kept months and reads of
//! what is left of the window.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::enums::ContentEventKind;

use super::facts::{self, Scope};
use super::formulas::{self, Window};
use crate::error::AppResult;

/// The raw facts of one window, per partner (partner 0: the whole program together).
#[derive(Default, Clone)]
pub struct WindowFacts {
    pub closed: Vec<(i64, bool, String, i64, i64)>,
    pub close_days: Vec<(i64, i64, i64)>,
    pub decided: Vec<(i64, bool, i64)>,
    pub decision_hours: Vec<(i64, i64, i64)>,
    pub submitted: Vec<(i64, i64)>,
    pub content: Vec<(i64, ContentEventKind, i64)>,
    pub completions: Vec<(i64, i64)>,
    pub certifications: Vec<(i64, i64)>,
    pub won_opportunities: Vec<(i64, String, i64)>,
    pub influences: Vec<(i64, i64)>,
    /// The partners with a won registration in the window.
    pub producing: BTreeSet<i64>,
    pub producing_before: BTreeSet<i64>,
}

impl WindowFacts {
    /// The window's facts, read from the activity tables.
    pub async fn read(
        db: &impl sea_orm::ConnectionTrait,
        window: &Window,
        scope: &Scope,
        by_partner: bool,
    ) -> AppResult<WindowFacts> {
        let (counts, held_and_direct) = tokio::try_join!(
            WindowFacts::counts(db, window, scope, by_partner),
            HeldAndDirect::read(db, window, scope, by_partner),
        )?;
        Ok(held_and_direct.into(counts))
    }

    /// What partners did in the window (what a whole past month keeps): registrations,
    /// content, training and the producing partners.
    pub async fn counts(
        db: &impl sea_orm::ConnectionTrait,
        window: &Window,
        scope: &Scope,
        by_partner: bool,
    ) -> AppResult<WindowFacts> {
        // The reads are independent: run at once on the pool's connections, a report waits
        // for the slowest, not for their sum.
        let ((closed, close_days), (decided, decision_hours), submitted) = tokio::try_join!(
            facts::closed(db, window, scope, by_partner),
            facts::decided(db, window, scope, by_partner),
            facts::submitted(db, window, scope, by_partner),
        )?;
        let (content, completions, producing) = tokio::try_join!(
            facts::content(db, window, scope, by_partner),
            facts::completions(db, window, scope, by_partner),
            // Rows of the whole program come without partners: its producers are read apart.
            async {
                if by_partner {
                    Ok(closed.iter().filter(|r| r.1).map(|r| r.0).collect())
                } else {
                    facts::producing(db, window, scope).await
                }
            },
        )?;
        Ok(WindowFacts {
            closed,
            close_days,
            decided,
            decision_hours,
            submitted,
            content,
            completions,
            producing: producing.into_iter().collect(),
            ..WindowFacts::default()
        })
    }

    /// The whole program's facts of `window`: its whole past months from `kept`, the rest
    /// of it read.
    pub async fn program(
        db: &impl sea_orm::ConnectionTrait,
        window: &Window,
        kept: &HashMap<DateTime<Utc>, WindowFacts>,
    ) -> AppResult<WindowFacts> {
        let mut parts = Vec::new();
        for piece in formulas::months(*window) {
            match kept
                .get(&piece.from)
                .filter(|_| super::months::is_whole(&piece))
            {
                Some(facts) => parts.push(facts.clone()),
                None => parts.push(WindowFacts::counts(db, &piece, &Scope::All, false).await?),
            }
        }
        let held_and_direct = HeldAndDirect::read(db, window, &Scope::All, false).await?;
        Ok(held_and_direct.into(WindowFacts::merged(&parts)))
    }

    pub fn won_partners(&self) -> BTreeSet<i64> {
        self.producing.clone()
    }

    /// The facts of each group of partners (`groups[i]` holds the partners of group `i`), in
    /// one pass over the rows: summing a group then reads its own rows, not every row (a
    /// report by partner has thousands of groups). Opportunities, a few hundred, go to all.
    pub fn split(&self, groups: &[BTreeSet<i64>]) -> Vec<WindowFacts> {
        let mut of: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, ids) in groups.iter().enumerate() {
            for id in ids {
                of.entry(*id).or_default().push(i);
            }
        }
        let mut parts: Vec<WindowFacts> = groups
            .iter()
            .map(|_| WindowFacts {
                won_opportunities: self.won_opportunities.clone(),
                influences: self.influences.clone(),
                ..WindowFacts::default()
            })
            .collect();
        spread(&self.closed, |r| r.0, &of, &mut parts, |f| &mut f.closed);
        spread(
            &self.close_days,
            |r| r.0,
            &of,
            &mut parts,
            |f| &mut f.close_days,
        );
        spread(&self.decided, |r| r.0, &of, &mut parts, |f| &mut f.decided);
        spread(
            &self.decision_hours,
            |r| r.0,
            &of,
            &mut parts,
            |f| &mut f.decision_hours,
        );
        spread(
            &self.submitted,
            |r| r.0,
            &of,
            &mut parts,
            |f| &mut f.submitted,
        );
        spread(&self.content, |r| r.0, &of, &mut parts, |f| &mut f.content);
        spread(
            &self.completions,
            |r| r.0,
            &of,
            &mut parts,
            |f| &mut f.completions,
        );
        spread(
            &self.certifications,
            |r| r.0,
            &of,
            &mut parts,
            |f| &mut f.certifications,
        );
        let each = |partner: i64| of.get(&partner).cloned().unwrap_or_default();
        for partner in &self.producing {
            for i in each(*partner) {
                parts[i].producing.insert(*partner);
            }
        }
        for partner in &self.producing_before {
            for i in each(*partner) {
                parts[i].producing_before.insert(*partner);
            }
        }
        parts
    }

    /// The facts of consecutive windows as one (certifications are those held at the end).
    pub fn merged(parts: &[WindowFacts]) -> WindowFacts {
        let mut all = WindowFacts::default();
        for part in parts {
            all.closed.extend(part.closed.iter().cloned());
            all.close_days.extend(part.close_days.iter().copied());
            all.decided.extend(part.decided.iter().copied());
            all.decision_hours
                .extend(part.decision_hours.iter().copied());
            all.submitted.extend(part.submitted.iter().copied());
            all.content.extend(part.content.iter().copied());
            all.completions.extend(part.completions.iter().copied());
            all.won_opportunities
                .extend(part.won_opportunities.iter().cloned());
            all.influences.extend(part.influences.iter().copied());
            all.producing.extend(part.producing.iter().copied());
        }
        if let Some(last) = parts.last() {
            all.certifications = last.certifications.clone();
        }
        all
    }
}

/// What is not kept per month: certifications held at the window's end, and the won
/// direct opportunities with their influencers (a few hundred rows, read whole).
struct HeldAndDirect {
    certifications: Vec<(i64, i64)>,
    won_opportunities: Vec<(i64, String, i64)>,
    influences: Vec<(i64, i64)>,
}

impl HeldAndDirect {
    async fn read(
        db: &impl sea_orm::ConnectionTrait,
        window: &Window,
        scope: &Scope,
        by_partner: bool,
    ) -> AppResult<HeldAndDirect> {
        let (certifications, won_opportunities) = tokio::try_join!(
            facts::certifications_at(db, window.to, scope, by_partner),
            facts::won_opportunities(db, window),
        )?;
        let ids: Vec<i64> = won_opportunities.iter().map(|o| o.0).collect();
        Ok(HeldAndDirect {
            certifications,
            influences: facts::influences_of(db, &ids).await?,
            won_opportunities,
        })
    }

    fn into(self, counts: WindowFacts) -> WindowFacts {
        WindowFacts {
            certifications: self.certifications,
            won_opportunities: self.won_opportunities,
            influences: self.influences,
            ..counts
        }
    }
}

/// Copies each row to the facts of the groups its partner is in.
fn spread<T: Clone>(
    rows: &[T],
    partner: fn(&T) -> i64,
    groups_of: &HashMap<i64, Vec<usize>>,
    parts: &mut [WindowFacts],
    field: fn(&mut WindowFacts) -> &mut Vec<T>,
) {
    for row in rows {
        for i in groups_of.get(&partner(row)).into_iter().flatten() {
            field(&mut parts[*i]).push(row.clone());
        }
    }
}
