use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID,
};
use chrono::{DateTime, Duration, Utc};

use super::formulas::{self, Cohort, Window};
use super::report::{self, Figures, Filter, Group, GroupBy};
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::partners::PartnerType;
use crate::relay::{local_id, paginate_loaded, PageArgs, RelayConnection};

/// The longest period a report covers, and the most months a monthly series has.
const MAX_PERIOD_DAYS: i64 = 3_660;
const MAX_MONTHS: usize = 61;
const MAX_FILTER_VALUES: usize = 100;
const MAX_FILTER_TEXT: usize = 100;

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum MetricsGroupBy {
    Tier,
    Type,
    Region,
    Vertical,
    Partner,
    /// Calendar months (UTC) of the period, oldest first: a series ready to plot.
    Month,
}

impl From<MetricsGroupBy> for GroupBy {
    fn from(by: MetricsGroupBy) -> Self {
        match by {
            MetricsGroupBy::Tier => GroupBy::Tier,
            MetricsGroupBy::Type => GroupBy::Type,
            MetricsGroupBy::Region => GroupBy::Region,
            MetricsGroupBy::Vertical => GroupBy::Vertical,
            MetricsGroupBy::Partner => GroupBy::Partner,
            MetricsGroupBy::Month => GroupBy::Month,
        }
    }
}

/// Which partners the figures cover (all conditions must hold; a list matches any of its values).
#[derive(InputObject, Default)]
pub struct ChannelMetricsFilter {
    pub partner_ids: Option<Vec<ID>>,
    pub tier_ids: Option<Vec<ID>>,
    pub types: Option<Vec<PartnerType>>,
    pub regions: Option<Vec<String>>,
    pub verticals: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct ChannelMetricsInput {
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    pub filter: Option<ChannelMetricsFilter>,
    pub group_by: Option<MetricsGroupBy>,
}

fn ids(list: Option<Vec<ID>>, kind: &str, field: &str) -> AppResult<Option<Vec<i64>>> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > MAX_FILTER_VALUES {
        return Err(AppError::BadUserInput(format!(
            "`filter.{field}` takes at most {MAX_FILTER_VALUES} values"
        )));
    }
    list.iter()
        .map(|id| {
            local_id(id, kind).ok_or_else(|| {
                AppError::BadUserInput(format!("`filter.{field}`: {:?} is not a {kind} id", id.0))
            })
        })
        .collect::<AppResult<Vec<i64>>>()
        .map(Some)
}

fn texts(list: Option<Vec<String>>, field: &str) -> AppResult<Option<Vec<String>>> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > MAX_FILTER_VALUES {
        return Err(AppError::BadUserInput(format!(
            "`filter.{field}` takes at most {MAX_FILTER_VALUES} values"
        )));
    }
    for value in &list {
        if value.is_empty() || value.chars().count() > MAX_FILTER_TEXT || value.contains('\0') {
            return Err(AppError::BadUserInput(format!(
                "`filter.{field}`: each value is 1-{MAX_FILTER_TEXT} characters without NUL"
            )));
        }
    }
    Ok(Some(list))
}

fn filter_of(input: Option<ChannelMetricsFilter>) -> AppResult<Filter> {
    let input = input.unwrap_or_default();
    Ok(Filter {
        partner_ids: ids(input.partner_ids, crate::partners::NODE_KIND, "partnerIds")?,
        tier_ids: ids(input.tier_ids, crate::tiers::NODE_KIND, "tierIds")?,
        types: input
            .types
            .map(|types| types.into_iter().map(Into::into).collect()),
        regions: texts(input.regions, "regions")?,
        verticals: texts(input.verticals, "verticals")?,
    })
}

fn period_of(input: &ChannelMetricsInput) -> AppResult<Window> {
    if input.from >= input.to {
        return Err(AppError::BadUserInput("`from` must be before `to`".into()));
    }
    if input.to - input.from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::BadUserInput(format!(
            "a period spans at most {MAX_PERIOD_DAYS} days"
        )));
    }
    let period = Window {
        from: input.from,
        to: input.to,
    };
    if input.group_by == Some(MetricsGroupBy::Month) && formulas::months(period).len() > MAX_MONTHS
    {
        return Err(AppError::BadUserInput(format!(
            "a monthly series has at most {MAX_MONTHS} months"
        )));
    }
    Ok(period)
}

/// Days to a first won deal among partners who joined in the period.
#[derive(SimpleObject)]
pub struct TimeToFirstDeal {
    /// Partners whose partnership started in the period.
    pub partners_joined: i64,
    /// Of them, those with a won registration (at any time up to now).
    pub partners_with_deal: i64,
    /// Median days from the partnership's start to the first won deal's close, among
    /// those with one.
    pub median_days: Option<f64>,
    /// 75th percentile (nearest rank) of the same days.
    pub p75_days: Option<f64>,
    /// The same per joining quarter (`2026-Q1`), oldest first.
    pub cohorts: Vec<TimeToFirstDealCohort>,
}

#[derive(SimpleObject)]
pub struct TimeToFirstDealCohort {
    pub cohort: String,
    pub partners_joined: i64,
    pub partners_with_deal: i64,
    pub median_days: Option<f64>,
    pub p75_days: Option<f64>,
}

impl From<&Cohort> for TimeToFirstDealCohort {
    fn from(c: &Cohort) -> Self {
        TimeToFirstDealCohort {
            cohort: c.label.clone(),
            partners_joined: c.joined as i64,
            partners_with_deal: c.with_deal as i64,
            median_days: c.days.median(),
            p75_days: c.days.percentile(75),
        }
    }
}

/// The figures of a report or of one of its groups. Definitions: README, "Channel metrics".
pub struct MetricFigures(pub Figures);

impl MetricFigures {
    fn per_active(&self, n: u64) -> Option<f64> {
        formulas::rate(n, self.0.active)
    }
}

#[Object]
impl MetricFigures {
    /// Won registrations closed in the period: Σ closed amount, per currency.
    async fn sourced_revenue(&self) -> Vec<Money> {
        self.0.sourced.to_money()
    }
    /// Won direct opportunities closed in the period that these partners influenced (each
    /// opportunity's whole amount, counted once however many partners influenced it).
    async fn influenced_revenue(&self) -> Vec<Money> {
        self.0.influenced.to_money()
    }
    async fn influenced_opportunities(&self) -> i64 {
        self.0.influenced_opportunities as i64
    }
    /// Won direct opportunities without partner influence: null where the figures cover
    /// some partners only (a partner, a filter, a group by partner attribute).
    async fn direct_revenue(&self) -> Option<Vec<Money>> {
        self.0.direct.as_ref().map(|d| d.to_money())
    }
    async fn direct_opportunities(&self) -> Option<i64> {
        self.0
            .direct
            .as_ref()
            .map(|_| self.0.direct_opportunities as i64)
    }
    /// Sourced + influenced + direct (where shown), per currency.
    async fn total_revenue(&self) -> Vec<Money> {
        self.0.total().to_money()
    }
    /// Registrations submitted in the period.
    async fn registrations_submitted(&self) -> i64 {
        self.0.submitted as i64
    }
    /// Registrations whose first decision (in the period) was an approval.
    async fn registrations_approved(&self) -> i64 {
        self.0.approved as i64
    }
    /// Registrations whose first decision (in the period) was a rejection.
    async fn registrations_rejected(&self) -> i64 {
        self.0.rejected as i64
    }
    /// Registrations won with a close in the period.
    async fn registrations_won(&self) -> i64 {
        self.0.won as i64
    }
    async fn registrations_lost(&self) -> i64 {
        self.0.lost as i64
    }
    /// approved / (approved + rejected), of first decisions in the period.
    async fn approval_rate(&self) -> Option<f64> {
        formulas::rate(self.0.approved, self.0.approved + self.0.rejected)
    }
    /// won / (won + lost), of registrations closed in the period.
    async fn win_rate(&self) -> Option<f64> {
        formulas::rate(self.0.won, self.0.won + self.0.lost)
    }
    /// Median time from submission to first decision, of decisions in the period, in days
    /// (measured in whole hours, shown to two decimals).
    async fn median_days_to_decision(&self) -> Option<f64> {
        self.0
            .decision_hours
            .median()
            .map(|h| formulas::round2(h / 24.0))
    }
    /// Median whole days from submission to close, of registrations won or lost in the period.
    async fn median_days_to_close(&self) -> Option<f64> {
        self.0.close_days.median()
    }
    /// Sourced revenue / won registrations, per currency.
    async fn average_won_deal_size(&self) -> Vec<Money> {
        self.0.sourced.averaged(&self.0.won_by_currency)
    }
    /// Partners signed before the period ended and not terminated before it began.
    async fn active_partners(&self) -> i64 {
        self.0.active as i64
    }
    /// Active partners with a won registration closed in the period.
    async fn producing_partners(&self) -> i64 {
        self.0.producing as i64
    }
    /// producing / active.
    async fn activation_rate(&self) -> Option<f64> {
        formulas::rate(self.0.producing, self.0.active)
    }
    async fn time_to_first_deal(&self) -> TimeToFirstDeal {
        let mut all = Cohort::default();
        for c in &self.0.cohorts {
            all.joined += c.joined;
            all.with_deal += c.with_deal;
            all.days.merge(&c.days);
        }
        TimeToFirstDeal {
            partners_joined: all.joined as i64,
            partners_with_deal: all.with_deal as i64,
            median_days: all.days.median(),
            p75_days: all.days.percentile(75),
            cohorts: self.0.cohorts.iter().map(Into::into).collect(),
        }
    }
    /// Partners producing in the window before (the equal span before the period; for a
    /// month, the month before).
    async fn previously_producing_partners(&self) -> i64 {
        self.0.previously_producing as i64
    }
    /// Of those, the partners producing in the period too.
    async fn retained_partners(&self) -> i64 {
        self.0.retained as i64
    }
    /// retained / previously producing.
    async fn retention_rate(&self) -> Option<f64> {
        formulas::rate(self.0.retained, self.0.previously_producing)
    }
    /// Content views by these partners' users in the period.
    async fn content_views(&self) -> i64 {
        self.0.views as i64
    }
    async fn content_downloads(&self) -> i64 {
        self.0.downloads as i64
    }
    async fn views_per_active_partner(&self) -> Option<f64> {
        self.per_active(self.0.views)
    }
    async fn downloads_per_active_partner(&self) -> Option<f64> {
        self.per_active(self.0.downloads)
    }
    /// Course completions by these partners' users in the period.
    async fn course_completions(&self) -> i64 {
        self.0.completions as i64
    }
    async fn completions_per_active_partner(&self) -> Option<f64> {
        self.per_active(self.0.completions)
    }
    /// Certifications these partners' users hold at the end of the period.
    async fn active_certifications(&self) -> i64 {
        self.0.certifications as i64
    }
    async fn certifications_per_active_partner(&self) -> Option<f64> {
        self.per_active(self.0.certifications)
    }
}

/// One group of a report: a tier, type, region, vertical, partner or month.
#[derive(SimpleObject)]
pub struct ChannelMetricsGroup {
    /// A tier's or partner's global id, a type, region or vertical, `NONE`, or `YYYY-MM`.
    pub key: String,
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[graphql(flatten)]
    pub figures: MetricFigures,
}

/// How a won direct opportunity's amount is credited to the partners that influenced it.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum InfluenceCredit {
    /// Each influencing partner's figures get the whole amount; the program's total counts
    /// the opportunity once (the default).
    Whole,
    /// The amount is divided evenly among the influencing partners (in cents; the cents
    /// left over go one each to the partners created first).
    Split,
}

impl From<formulas::InfluenceCredit> for InfluenceCredit {
    fn from(c: formulas::InfluenceCredit) -> Self {
        match c {
            formulas::InfluenceCredit::Whole => InfluenceCredit::Whole,
            formulas::InfluenceCredit::Split => InfluenceCredit::Split,
        }
    }
}

impl From<InfluenceCredit> for formulas::InfluenceCredit {
    fn from(c: InfluenceCredit) -> Self {
        match c {
            InfluenceCredit::Whole => formulas::InfluenceCredit::Whole,
            InfluenceCredit::Split => formulas::InfluenceCredit::Split,
        }
    }
}

/// The program's figures for a period, and per group when asked.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChannelMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Option<MetricsGroupBy>,
    /// How these figures credit influenced revenue (`setInfluenceCredit`).
    pub influence_credit: InfluenceCredit,
    #[graphql(flatten)]
    pub figures: MetricFigures,
    #[graphql(skip)]
    pub groups: Arc<Vec<Group>>,
}

#[ComplexObject]
impl ChannelMetrics {
    /// The groups, in key order (months oldest first).
    async fn groups(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<ChannelMetricsGroup>> {
        let rows: Vec<(i64, usize)> = (0..self.groups.len()).map(|i| (i as i64 + 1, i)).collect();
        let groups = self.groups.clone();
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |row| row.0,
            move |(_, i)| {
                let group = &groups[i];
                ChannelMetricsGroup {
                    key: group.key.key.clone(),
                    label: group.key.label.clone(),
                    from: group.window.from,
                    to: group.window.to,
                    figures: MetricFigures(group.figures.clone()),
                }
            },
        )
        .extend()
    }
}

#[derive(Default)]
pub struct MetricsQuery;

#[Object]
impl MetricsQuery {
    /// Revenue, registrations, partner activation, time to first deal, retention, content
    /// engagement and training for a period: the whole program for channel managers, its own
    /// organisation (and tier two) for a partner.
    async fn channel_metrics(
        &self,
        ctx: &Context<'_>,
        input: ChannelMetricsInput,
    ) -> async_graphql::Result<ChannelMetrics> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let viewer = super::policy::viewer(db, &actor).await.extend()?;
        let period = period_of(&input).extend()?;
        let filter = filter_of(input.filter).extend()?;
        let group_by = input.group_by.map(Into::into);
        let report = report::report(db, &viewer, period, &filter, group_by);
        let report = crate::reports::in_turn(report).await.extend()?;
        Ok(ChannelMetrics {
            from: report.period.from,
            to: report.period.to,
            group_by: input.group_by,
            influence_credit: report.credit.into(),
            figures: MetricFigures(report.figures),
            groups: Arc::new(report.groups),
        })
    }
}

#[derive(InputObject)]
pub struct SetInfluenceCreditInput {
    pub credit: InfluenceCredit,
}

#[derive(SimpleObject)]
pub struct SetInfluenceCreditPayload {
    pub influence_credit: Option<InfluenceCredit>,
    pub user_errors: Vec<crate::relay::UserError>,
}

#[derive(Default)]
pub struct MetricsMutation;

#[Object]
impl MetricsMutation {
    /// How the program credits influenced revenue to partners: whole to each influencing
    /// partner, or split evenly among them (channel managers). Reports follow at once.
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn set_influence_credit(
        &self,
        ctx: &Context<'_>,
        input: SetInfluenceCreditInput,
    ) -> async_graphql::Result<SetInfluenceCreditPayload> {
        let db = ctx.data::<Db>()?;
        report::set_influence_credit(db, input.credit.into())
            .await
            .extend()?;
        Ok(SetInfluenceCreditPayload {
            influence_credit: Some(input.credit),
            user_errors: vec![],
        })
    }
}
