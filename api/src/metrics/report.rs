//! `channelMetrics`: the facts of each window read once, then summed per group of
//! partners. A monthly series reads each month once; its totals are the months' facts
//! merged, so a year costs twelve months' reads and one more for the retention baseline.
//! The whole program's whole past months come from the kept months (`months`) instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{ContentEventKind, PartnerStatus};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::ActiveEnum;

use super::facts::{self, PartnerFacts, Scope};
use super::formulas::{self, Amounts, Cohort, Histogram, InfluenceCredit, Window};
use super::months;
use super::window::WindowFacts;
use crate::db::Db;
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

    /// Whether the filter reads partners' attributes (not only their ids).
    fn reads_attributes(&self) -> bool {
        self.tier_ids.is_some()
            || self.types.is_some()
            || self.regions.is_some()
            || self.verticals.is_some()
    }

    fn admits(&self, p: &PartnerFacts) -> bool {
        let ids = self
            .partner_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&p.id));
        ids && (!self.reads_attributes() || p.about.as_ref().is_some_and(|a| self.admits_about(a)))
    }

    fn admits_about(&self, p: &facts::About) -> bool {
        self.tier_ids
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
    pub credit: InfluenceCredit,
    pub figures: Figures,
    pub groups: Vec<Group>,
}

/// A set of partners the figures are for.
struct Members<'a> {
    ids: &'a BTreeSet<i64>,
    /// Whether this group is every partner in scope (histograms read without partners
    /// apply to it; direct revenue may be shown).
    whole: bool,
}

/// What every group's figures are summed against.
#[derive(Clone, Copy)]
struct Basis<'a> {
    partners: &'a HashMap<i64, &'a PartnerFacts>,
    first_wins: &'a HashMap<i64, DateTime<Utc>>,
    /// Whether direct revenue is shown (the whole program, unfiltered).
    with_direct: bool,
    credit: InfluenceCredit,
}

fn sum_figures(facts: &WindowFacts, window: &Window, members: &Members, basis: &Basis) -> Figures {
    let Basis {
        partners,
        first_wins,
        with_direct,
        credit,
    } = *basis;
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
    revenue_of_opportunities(facts, members, with_direct, credit, &mut f);
    // One pass over the members (thousands, for every window of a series): counts, no sets.
    let active_of = |id: &i64| partners.get(id).is_some_and(|p| is_active(p, window));
    let mut joined: Vec<(NaiveDate, Option<DateTime<Utc>>)> = Vec::new();
    for id in members.ids {
        let Some(p) = partners.get(id) else { continue };
        if is_active(p, window) {
            f.active += 1;
        }
        if let Some(on) = p.started_on.filter(|on| window.contains_day(*on)) {
            joined.push((on, first_wins.get(id).copied()));
        }
    }
    f.producing = producing
        .iter()
        .filter(|id| members.ids.contains(id) && active_of(id))
        .count() as u64;
    let before: BTreeSet<i64> = facts
        .producing_before
        .iter()
        .copied()
        .filter(|p| has(*p))
        .collect();
    f.previously_producing = before.len() as u64;
    f.retained = formulas::retained(&before, &producing);
    f.cohorts = formulas::cohorts(&joined);
    f
}

/// Influenced revenue: won direct opportunities with a member among their influencers,
/// each counted once, whole or the members' shares (`credit`). Direct: those without any
/// partner, when the group is everyone.
fn revenue_of_opportunities(
    facts: &WindowFacts,
    members: &Members,
    with_direct: bool,
    credit: InfluenceCredit,
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
                let credited = formulas::influence_credited(credit, *amount, partners, |p| {
                    members.ids.contains(&p)
                });
                f.influenced.add(currency, credited);
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
fn keys_of(partner: &PartnerFacts, by: GroupBy, tiers: &HashMap<i64, String>) -> Vec<GroupKey> {
    let Some(p) = &partner.about else {
        return vec![];
    };
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
            key: crate::relay::global_id(crate::partners::NODE_KIND, partner.id).to_string(),
            label: p.name.clone(),
        }],
        GroupBy::Month => vec![],
    }
}

/// The report for `period`, as `viewer` may see it.
pub async fn report(
    db: &Db,
    viewer: &Viewer,
    period: Window,
    filter: &Filter,
    group_by: Option<GroupBy>,
) -> AppResult<Report> {
    let by_partner = !matches!(group_by, None | Some(GroupBy::Month));
    let all_partners = facts::partners(db, by_partner || filter.reads_attributes()).await?;
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
    let windows = match group_by {
        Some(GroupBy::Month) => formulas::months(period),
        _ => vec![period],
    };
    // Each window's producing partners before it: the previous month's (read for the
    // first), or the equal span before the period.
    let first_before = match group_by {
        Some(GroupBy::Month) => windows[0].previous_month(),
        _ => period.previous(),
    };
    let source = Source::new(
        db,
        &scope,
        by_partner,
        &[period, first_before, period.previous()],
    )
    .await?;
    // Two windows at a time (each runs its reads at once): a monthly series keeps both
    // cores busy without queueing dozens of statements on the pool.
    let source_ref = &source;
    let mut parts: Vec<WindowFacts> = futures_util::stream::iter(windows.iter().copied())
        .map(|window| async move { source_ref.facts(&window).await })
        .buffered(2)
        .try_collect()
        .await?;
    let mut before = source.producing(&first_before).await?;
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
        source.producing(&period.previous()).await?
    } else {
        parts[0].producing_before.clone()
    };
    let basis = Basis {
        partners: &partners,
        first_wins: &first_wins,
        with_direct,
        credit: influence_credit(db).await?,
    };
    let figures = sum_figures(&whole, &period, &everyone, &basis);
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
                figures: sum_figures(part, window, &everyone, &basis),
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
                        &Basis {
                            with_direct: false,
                            ..basis
                        },
                    ),
                })
                .collect()
        }
    };
    Ok(Report {
        period,
        credit: basis.credit,
        figures,
        groups,
    })
}

const CREDIT_SETTING: &str = "influence_credit";

/// How the program credits influenced revenue (`setInfluenceCredit`).
pub async fn influence_credit(db: &impl sea_orm::ConnectionTrait) -> AppResult<InfluenceCredit> {
    Ok(
        match crate::settings::read(db, CREDIT_SETTING).await?.as_deref() {
            Some("SPLIT") => InfluenceCredit::Split,
            _ => InfluenceCredit::Whole,
        },
    )
}

pub async fn set_influence_credit(
    db: &impl sea_orm::ConnectionTrait,
    credit: InfluenceCredit,
) -> AppResult<()> {
    let value = match credit {
        InfluenceCredit::Whole => "WHOLE",
        InfluenceCredit::Split => "SPLIT",
    };
    crate::settings::store(db, CREDIT_SETTING, value).await
}

/// Where a report's facts come from: the activity tables, or for the whole program
/// (not split by partner) the kept months and the activity tables for the rest.
struct Source<'a> {
    db: &'a Db,
    scope: &'a Scope,
    by_partner: bool,
    kept: Option<HashMap<DateTime<Utc>, WindowFacts>>,
}

impl<'a> Source<'a> {
    /// A source for reading `spans`, their kept months fetched (and kept) at once.
    async fn new(
        db: &'a Db,
        scope: &'a Scope,
        by_partner: bool,
        spans: &[Window],
    ) -> AppResult<Source<'a>> {
        let program = matches!(scope, Scope::All) && !by_partner;
        let kept = if program {
            let now = Utc::now();
            let wanted: BTreeSet<DateTime<Utc>> = spans
                .iter()
                .flat_map(|span| formulas::months(*span))
                .filter(|piece| months::is_keepable(piece, now))
                .map(|piece| piece.from)
                .collect();
            let wanted: Vec<DateTime<Utc>> = wanted.into_iter().collect();
            Some(months::facts_of(db, &wanted).await?)
        } else {
            None
        };
        Ok(Source {
            db,
            scope,
            by_partner,
            kept,
        })
    }

    async fn facts(&self, window: &Window) -> AppResult<WindowFacts> {
        match &self.kept {
            Some(kept) => WindowFacts::program(self.db, window, kept).await,
            None => WindowFacts::read(self.db, window, self.scope, self.by_partner).await,
        }
    }

    /// The partners with a won registration closed in `window`.
    async fn producing(&self, window: &Window) -> AppResult<BTreeSet<i64>> {
        let Some(kept) = &self.kept else {
            let found = facts::producing(self.db, window, self.scope).await?;
            return Ok(found.into_iter().collect());
        };
        let mut all = BTreeSet::new();
        for piece in formulas::months(*window) {
            match kept.get(&piece.from).filter(|_| months::is_whole(&piece)) {
                Some(month) => all.extend(month.producing.iter().copied()),
                None => all.extend(facts::producing(self.db, &piece, self.scope).await?),
            }
        }
        Ok(all)
    }
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
