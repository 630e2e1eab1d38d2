//! `channelMetrics`: the facts of each window read once, then summed per group of
//! partners. A monthly series reads each month once; its totals are the months' facts
//! merged, so a year costs twelve months' reads and one more for the retention baseline.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ContentEventKind, PartnerStatus};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::ActiveEnum;

use super::facts::{self, PartnerFacts, Scope};
use super::formulas::{self, Amounts, Cohort, Histogram, Window};
use crate::error::AppResult;

/// How the figures are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Tier,
    Type,
    Region,
    Vertical,
    Partner,
    Month,
}

/// Which partners' figures: those the caller sees, narrowed by the filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub partner_ids: Option<Vec<i64>>,
    pub tier_ids: Option<Vec<i64>>,
    pub types: Option<Vec<entity::enums::PartnerType>>,
    pub regions: Option<Vec<String>>,
    pub verticals: Option<Vec<String>>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.partner_ids.is_none()
            && self.tier_ids.is_none()
            && self.types.is_none()
            && self.regions.is_none()
            && self.verticals.is_none()
    }

    fn admits(&self, p: &PartnerFacts) -> bool {
        self.partner_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&p.id))
            && self
                .tier_ids
                .as_ref()
                .is_none_or(|ids| p.tier_id.is_some_and(|t| ids.contains(&t)))
            && self
                .types
                .as_ref()
                .is_none_or(|types| types.contains(&p.partner_type))
            && self
                .regions
                .as_ref()
                .is_none_or(|regions| p.region.as_ref().is_some_and(|r| regions.contains(r)))
            && self
                .verticals
                .as_ref()
                .is_none_or(|vs| p.verticals.iter().any(|v| vs.contains(v)))
    }
}

/// Who asks: every partner (vendor staff), or these (a partner organisation's tree).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub partners: Option<BTreeSet<i64>>,
}

/// The figures of one group (or of the whole report).
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub sourced: Amounts,
    pub won_by_currency: BTreeMap<String, u64>,
    pub influenced: Amounts,
    pub influenced_opportunities: u64,
    /// Won direct opportunities without partner influence; none where partners are split.
    pub direct: Option<Amounts>,
    pub direct_opportunities: u64,
    pub submitted: u64,
    pub approved: u64,
    pub rejected: u64,
    pub won: u64,
    pub lost: u64,
    pub decision_hours: Histogram,
    pub close_days: Histogram,
    pub active: u64,
    pub producing: u64,
    pub previously_producing: u64,
    pub retained: u64,
    pub cohorts: Vec<Cohort>,
    pub views: u64,
    pub downloads: u64,
    pub completions: u64,
    pub certifications: u64,
}

impl Figures {
    pub fn total(&self) -> Amounts {
        let mut total = self.sourced.clone();
        total.merge(&self.influenced);
        if let Some(direct) = &self.direct {
            total.merge(direct);
        }
        total
    }
}

/// A group's key (a global id, an enum name, a region, a vertical or a month) and label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey {
    pub key: String,
    pub label: String,
}

pub struct Group {
    pub key: GroupKey,
    pub window: Window,
    pub figures: Figures,
}

pub struct Report {
    pub period: Window,
    pub figures: Figures,
    pub groups: Vec<Group>,
}

/// The raw facts of one window, per partner.
#[derive(Default, Clone)]
struct WindowFacts {
    closed: Vec<(i64, bool, String, i64, i64)>,
    close_days: Vec<(i64, i64, i64)>,
    decided: Vec<(i64, bool, i64)>,
    decision_hours: Vec<(i64, i64, i64)>,
    submitted: Vec<(i64, i64)>,
    content: Vec<(i64, ContentEventKind, i64)>,
    completions: Vec<(i64, i64)>,
    certifications: Vec<(i64, i64)>,
    won_opportunities: Vec<(i64, String, i64)>,
    influences: Vec<(i64, i64)>,
    /// The partners with a won registration in the window.
    producing: BTreeSet<i64>,
    producing_before: BTreeSet<i64>,
}

impl WindowFacts {
    async fn read(
        db: &impl sea_orm::ConnectionTrait,
        window: &Window,
        scope: &Scope,
        by_partner: bool,
    ) -> AppResult<WindowFacts> {
        // The reads are independent: run at once on the pool's connections, a report waits
        // for the slowest, not for their sum.
        let (won_opportunities, (closed, close_days), (decided, decision_hours)) = tokio::try_join!(
            facts::won_opportunities(db, window),
            facts::closed(db, window, scope, by_partner),
            facts::decided(db, window, scope, by_partner),
        )?;
        let (submitted, content, completions, certifications, producing) = tokio::try_join!(
            facts::submitted(db, window, scope, by_partner),
            facts::content(db, window, scope, by_partner),
            facts::completions(db, window, scope, by_partner),
            facts::certifications_at(db, window.to, scope, by_partner),
            // Rows of the whole program come without partners: its producers are read apart.
            async {
                if by_partner {
                    Ok(closed.iter().filter(|r| r.1).map(|r| r.0).collect())
                } else {
                    facts::producing(db, window, scope).await
                }
            },
        )?;
        let ids: Vec<i64> = won_opportunities.iter().map(|o| o.0).collect();
        Ok(WindowFacts {
            closed,
            producing: producing.into_iter().collect(),
            close_days,
            decided,
            decision_hours,
            submitted,
            content,
            completions,
            certifications,
            influences: facts::influences_of(db, &ids).await?,
            won_opportunities,
            producing_before: BTreeSet::new(),
        })
    }

    fn won_partners(&self) -> BTreeSet<i64> {
        self.producing.clone()
    }

    /// The facts of each group of partners (`groups[i]` holds the partners of group `i`), in
    /// one pass over the rows: summing a group then reads its own rows, not every row (a
    /// report by partner has thousands of groups). Opportunities, a few hundred, go to all.
    fn split(&self, groups: &[BTreeSet<i64>]) -> Vec<WindowFacts> {
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
    fn merged(parts: &[WindowFacts]) -> WindowFacts {
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

/// A set of partners the figures are for.
struct Members<'a> {
    ids: &'a BTreeSet<i64>,
    /// Whether this group is every partner in scope (histograms read without partners
    /// apply to it; direct revenue may be shown).
    whole: bool,
}

fn sum_figures(
    facts: &WindowFacts,
    window: &Window,
    members: &Members,
    partners: &HashMap<i64, &PartnerFacts>,
    first_wins: &HashMap<i64, DateTime<Utc>>,
    with_direct: bool,
) -> Figures {
    // The whole program's rows are already narrowed to the scope (and may carry no partner).
    let has = |p: i64| members.whole || members.ids.contains(&p);
    let mut f = Figures::default();
    let producing: BTreeSet<i64> = facts
        .producing
        .iter()
        .copied()
        .filter(|p| has(*p))
        .collect();
    for (p, won, currency, n, amount) in &facts.closed {
        if !has(*p) {
            continue;
        }
        if *won {
            f.sourced.add(currency, *amount);
            *f.won_by_currency.entry(currency.clone()).or_default() += *n as u64;
            f.won += *n as u64;
        } else {
            f.lost += *n as u64;
        }
    }
    let bins = |rows: &[(i64, i64, i64)]| {
        let mut h = Histogram::default();
        for (p, value, n) in rows {
            if has(*p) {
                // A close or decision recorded before the submission counts as none.
                h.add((*value).max(0), *n as u64);
            }
        }
        h
    };
    f.close_days = bins(&facts.close_days);
    f.decision_hours = bins(&facts.decision_hours);
    for (p, approved, n) in &facts.decided {
        if has(*p) {
            if *approved {
                f.approved += *n as u64;
            } else {
                f.rejected += *n as u64;
            }
        }
    }
    f.submitted = facts
        .submitted
        .iter()
        .filter(|r| has(r.0))
        .map(|r| r.1 as u64)
        .sum();
    for (p, kind, n) in &facts.content {
        if has(*p) {
            match kind {
                ContentEventKind::View => f.views += *n as u64,
                ContentEventKind::Download => f.downloads += *n as u64,
                ContentEventKind::Share => {}
            }
        }
    }
    let per_partner =
        |rows: &[(i64, i64)]| -> u64 { rows.iter().filter(|r| has(r.0)).map(|r| r.1 as u64).sum() };
    f.completions = per_partner(&facts.completions);
    f.certifications = per_partner(&facts.certifications);
    revenue_of_opportunities(facts, members, with_direct, &mut f);
    let active: BTreeSet<i64> = members
        .ids
        .iter()
        .copied()
        .filter(|id| partners.get(id).is_some_and(|p| is_active(p, window)))
        .collect();
    f.active = active.len() as u64;
    f.producing = producing.intersection(&active).count() as u64;
    let before: BTreeSet<i64> = facts
        .producing_before
        .iter()
        .copied()
        .filter(|p| has(*p))
        .collect();
    f.previously_producing = before.len() as u64;
    f.retained = formulas::retained(&before, &producing);
    let joined: Vec<(NaiveDate, Option<DateTime<Utc>>)> = members
        .ids
        .iter()
        .filter_map(|id| partners.get(id))
        .filter_map(|p| p.started_on.map(|on| (p.id, on)))
        .filter(|(_, on)| window.contains_day(*on))
        .map(|(id, on)| (on, first_wins.get(&id).copied()))
        .collect();
    f.cohorts = formulas::cohorts(&joined);
    f
}

/// Influenced revenue: won direct opportunities with a member among their influencers,
/// each counted once. Direct: those without any partner, when the group is everyone.
fn revenue_of_opportunities(
    facts: &WindowFacts,
    members: &Members,
    with_direct: bool,
    f: &mut Figures,
) {
    let mut influencers: HashMap<i64, Vec<i64>> = HashMap::new();
    for (opportunity, partner) in &facts.influences {
        influencers.entry(*opportunity).or_default().push(*partner);
    }
    let mut direct = Amounts::default();
    for (id, currency, amount) in &facts.won_opportunities {
        match influencers.get(id) {
            Some(partners) if partners.iter().any(|p| members.ids.contains(p)) => {
                f.influenced.add(currency, *amount);
                f.influenced_opportunities += 1;
            }
            Some(_) => {}
            None => {
                direct.add(currency, *amount);
                f.direct_opportunities += 1;
            }
        }
    }
    if with_direct && members.whole {
        f.direct = Some(direct);
    } else {
        f.direct_opportunities = 0;
    }
}

/// Signed before the window ends and not terminated before it began (prospects never).
pub fn is_active(p: &PartnerFacts, window: &Window) -> bool {
    let signed = p.started_on.is_some_and(|on| {
        on.and_hms_opt(0, 0, 0)
            .is_some_and(|t| t.and_utc() < window.to)
    });
    let gone_before = p.status == PartnerStatus::Terminated
        && p.status_changed_at.is_some_and(|at| at < window.from);
    signed && p.status != PartnerStatus::Prospect && !gone_before
}

/// The groups a partner falls in (a partner with two verticals is in both).
fn keys_of(p: &PartnerFacts, by: GroupBy, tiers: &HashMap<i64, String>) -> Vec<GroupKey> {
    let none = || GroupKey {
        key: "NONE".into(),
        label: "None".into(),
    };
    match by {
        GroupBy::Tier => vec![p.tier_id.map_or_else(none, |t| GroupKey {
            key: crate::relay::global_id(crate::tiers::NODE_KIND, t).to_string(),
            label: tiers.get(&t).cloned().unwrap_or_default(),
        })],
        GroupBy::Type => {
            let name = p.partner_type.to_value();
            vec![GroupKey {
                key: name.clone(),
                label: name,
            }]
        }
        GroupBy::Region => vec![p.region.clone().map_or_else(none, |r| GroupKey {
            key: r.clone(),
            label: r,
        })],
        GroupBy::Vertical if p.verticals.is_empty() => vec![none()],
        GroupBy::Vertical => p
            .verticals
            .iter()
            .map(|v| GroupKey {
                key: v.clone(),
                label: v.clone(),
            })
            .collect(),
        GroupBy::Partner => vec![GroupKey {
            key: crate::relay::global_id(crate::partners::NODE_KIND, p.id).to_string(),
            label: p.name.clone(),
        }],
        GroupBy::Month => vec![],
    }
}

/// The report for `period`, as `viewer` may see it.
pub async fn report(
    db: &impl sea_orm::ConnectionTrait,
    viewer: &Viewer,
    period: Window,
    filter: &Filter,
    group_by: Option<GroupBy>,
) -> AppResult<Report> {
    let all_partners = facts::partners(db).await?;
    let in_scope: BTreeSet<i64> = all_partners
        .iter()
        .filter(|p| {
            viewer
                .partners
                .as_ref()
                .is_none_or(|ids| ids.contains(&p.id))
        })
        .filter(|p| filter.admits(p))
        .map(|p| p.id)
        .collect();
    let unrestricted = viewer.partners.is_none() && filter.is_empty();
    let scope = if unrestricted {
        Scope::All
    } else {
        Scope::Only(in_scope.iter().copied().collect())
    };
    let partners: HashMap<i64, &PartnerFacts> = all_partners.iter().map(|p| (p.id, p)).collect();
    let by_partner = !matches!(group_by, None | Some(GroupBy::Month));
    let windows = match group_by {
        Some(GroupBy::Month) => formulas::months(period),
        _ => vec![period],
    };
    // Two windows at a time (each runs its reads at once): a monthly series keeps both
    // cores busy without queueing dozens of statements on the pool.
    let scope_ref = &scope;
    let mut parts: Vec<WindowFacts> = futures_util::stream::iter(windows.iter().copied())
        .map(|window| async move { WindowFacts::read(db, &window, scope_ref, by_partner).await })
        .buffered(2)
        .try_collect()
        .await?;
    // Each window's producing partners before it: the previous month's (read for the
    // first), or the equal span before the period.
    let first_before = match group_by {
        Some(GroupBy::Month) => windows[0].previous_month(),
        _ => period.previous(),
    };
    let mut before: BTreeSet<i64> = facts::producing(db, &first_before, &scope)
        .await?
        .into_iter()
        .collect();
    for part in parts.iter_mut() {
        let now = part.won_partners();
        part.producing_before = std::mem::replace(&mut before, now);
    }
    let joiners: Vec<i64> = in_scope
        .iter()
        .copied()
        .filter(|id| {
            partners
                .get(id)
                .and_then(|p| p.started_on)
                .is_some_and(|on| period.contains_day(on))
        })
        .collect();
    let first_wins: HashMap<i64, DateTime<Utc>> =
        facts::first_wins(db, &joiners).await?.into_iter().collect();
    let with_direct = unrestricted;
    let everyone = Members {
        ids: &in_scope,
        whole: true,
    };
    let mut whole = WindowFacts::merged(&parts);
    whole.producing_before = if group_by == Some(GroupBy::Month) {
        facts::producing(db, &period.previous(), &scope)
            .await?
            .into_iter()
            .collect()
    } else {
        parts[0].producing_before.clone()
    };
    let figures = sum_figures(
        &whole,
        &period,
        &everyone,
        &partners,
        &first_wins,
        with_direct,
    );
    let groups = match group_by {
        None => vec![],
        Some(GroupBy::Month) => windows
            .iter()
            .zip(&parts)
            .map(|(window, part)| Group {
                key: GroupKey {
                    key: window.month_label(),
                    label: window.month_label(),
                },
                window: *window,
                figures: sum_figures(part, window, &everyone, &partners, &first_wins, with_direct),
            })
            .collect(),
        Some(by) => {
            let tiers = tier_names(db).await?;
            let mut members: BTreeMap<GroupKey, BTreeSet<i64>> = BTreeMap::new();
            for id in &in_scope {
                if let Some(p) = partners.get(id) {
                    for key in keys_of(p, by, &tiers) {
                        members.entry(key).or_default().insert(*id);
                    }
                }
            }
            let (keys, ids): (Vec<GroupKey>, Vec<BTreeSet<i64>>) = members.into_iter().unzip();
            let parts = whole.split(&ids);
            keys.into_iter()
                .zip(ids.iter().zip(&parts))
                .map(|(key, (ids, part))| Group {
                    key,
                    window: period,
                    figures: sum_figures(
                        part,
                        &period,
                        &Members { ids, whole: false },
                        &partners,
                        &first_wins,
                        false,
                    ),
                })
                .collect()
        }
    };
    Ok(Report {
        period,
        figures,
        groups,
    })
}

async fn tier_names(db: &impl sea_orm::ConnectionTrait) -> AppResult<HashMap<i64, String>> {
    use sea_orm::EntityTrait;
    Ok(entity::tier::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}
