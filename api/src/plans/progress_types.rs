//! A plan's actuals in the schema, all computed when read: revenue against the targets,
//! pipeline and wins in the target accounts, the enablement needs met, and each objective's
//! attainment with the weighted attainment of all of them. Each part is read for a page of
//! plans at once, and only when asked for.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ErrorExtensions, Object, SimpleObject};
use chrono::Utc;
use entity::joint_business_plan as plan;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::actuals::QuarterFigures;
use super::contents_types::{value_of, PlanEnablementNeed, PlanMetric, PlanTargetAccount};
use super::loaders::ObjectivesByPlan;
use super::progress::{self, Progress};
use super::scorecard::{self, need_status, NeedStatus, ObjectiveResult};
use super::service::{self, Rows};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::{load_group, loader, Made, TargetsByPlan};
use crate::metrics::formulas::Amounts;
use crate::money::Money;

/// One quarter's target and actual revenue in one currency.
#[derive(SimpleObject)]
pub struct PlanQuarter {
    pub quarter: String,
    pub target: Option<Money>,
    pub actual: Money,
    /// actual / target (four decimals; null without a target).
    pub attainment: Option<f64>,
}

impl From<QuarterFigures> for PlanQuarter {
    fn from(q: QuarterFigures) -> Self {
        PlanQuarter {
            target: q.target.map(|t| Money::from_minor(t, &q.currency)),
            actual: Money::from_minor(q.actual, &q.currency),
            attainment: q.attainment,
            quarter: q.quarter,
        }
    }
}

/// An objective against what was achieved (as computed then, in a review's snapshot).
#[derive(SimpleObject)]
pub struct PlanObjectiveResult {
    pub name: String,
    pub metric: Option<PlanMetric>,
    pub weight: i32,
    /// Money measures' currency.
    pub currency: Option<String>,
    /// An amount of `currency`, or a count.
    pub target: Decimal,
    pub actual: Decimal,
    /// actual / target, four decimals, uncapped.
    pub attainment: Option<f64>,
}

impl From<ObjectiveResult> for PlanObjectiveResult {
    fn from(r: ObjectiveResult) -> Self {
        let metric = sea_orm::ActiveEnum::try_from_value(&r.metric)
            .ok()
            .map(|m: entity::enums::PlanMetric| m.into());
        PlanObjectiveResult {
            target: value_of(r.target, r.currency.as_deref()),
            actual: value_of(r.actual, r.currency.as_deref()),
            name: r.name,
            metric,
            weight: r.weight,
            currency: r.currency,
            attainment: r.attainment,
        }
    }
}

/// A target account's figures for the plan's partner.
#[derive(SimpleObject)]
pub struct PlanAccountActual {
    pub account: PlanTargetAccount,
    /// The partner's registrations for it still in play (submitted, in review, approved,
    /// returned).
    pub open_registrations: i64,
    /// Their estimated value, per currency.
    pub pipeline: Vec<Money>,
    /// Its registrations for it won in the period, per currency.
    pub won_revenue: Vec<Money>,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum EnablementStatus {
    /// Enough of the partner's people have it.
    Met,
    Open,
    /// Not met, and past its due date.
    Overdue,
}

impl From<NeedStatus> for EnablementStatus {
    fn from(status: NeedStatus) -> Self {
        match status {
            NeedStatus::Met => EnablementStatus::Met,
            NeedStatus::Open => EnablementStatus::Open,
            NeedStatus::Overdue => EnablementStatus::Overdue,
        }
    }
}

/// An enablement need against the partner's people who have it now (completed the course,
/// hold the certification unexpired, used the content).
#[derive(SimpleObject)]
pub struct PlanNeedActual {
    pub need: PlanEnablementNeed,
    pub earned: i64,
    pub status: EnablementStatus,
}

/// What the partner achieved in the plan's period, computed (never typed).
pub struct PlanActuals(pub plan::Model);

async fn revenue_rows(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Arc<(Rows, Rows)>> {
    Ok(loader::<i64, ActualsLoader>(ctx)
        .await?
        .load_one(id)
        .await
        .map_err(|e| e.extend())?
        .unwrap_or_default())
}

async fn progress_of(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Arc<Progress>> {
    Ok(loader::<i64, ProgressLoader>(ctx)
        .await?
        .load_one(id)
        .await
        .map_err(|e| e.extend())?
        .unwrap_or_default())
}

fn amounts<'a>(rows: impl IntoIterator<Item = &'a (String, String, i64)>) -> Amounts {
    let mut sums = Amounts::default();
    for (_, currency, minor) in rows {
        sums.add(currency, *minor);
    }
    sums
}

impl PlanActuals {
    async fn figures(&self, ctx: &Context<'_>) -> async_graphql::Result<scorecard::Figures> {
        let rows = revenue_rows(ctx, self.0.id).await?;
        let progress = progress_of(ctx, self.0.id).await?;
        Ok(progress::figures(
            &rows.0,
            &rows.1,
            &progress,
            Utc::now().date_naive(),
        ))
    }
}

#[Object]
impl PlanActuals {
    /// Sourced plus influenced, per currency.
    async fn revenue(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Money>> {
        let rows = revenue_rows(ctx, self.0.id).await?;
        Ok(amounts(rows.0.iter().chain(&rows.1)).to_money())
    }
    /// Its won registrations closed in the period.
    async fn sourced_revenue(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Money>> {
        Ok(amounts(&revenue_rows(ctx, self.0.id).await?.0).to_money())
    }
    /// Won direct opportunities it influenced, closed in the period (credited as
    /// `channelMetrics` credits them).
    async fn influenced_revenue(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Money>> {
        Ok(amounts(&revenue_rows(ctx, self.0.id).await?.1).to_money())
    }
    async fn by_quarter(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlanQuarter>> {
        let rows = revenue_rows(ctx, self.0.id).await?;
        let targets: Vec<(String, String, i64)> = load_group::<TargetsByPlan>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|t| (t.quarter, t.currency, t.amount_minor))
            .collect();
        let all: Rows = rows.0.iter().chain(&rows.1).cloned().collect();
        Ok(super::actuals::by_quarter(&targets, &all)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// Registrations it won in the period.
    async fn won_registrations(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(i64::try_from(revenue_rows(ctx, self.0.id).await?.0.len()).unwrap_or(i64::MAX))
    }
    /// Open registrations' estimated value in the target accounts, per currency.
    async fn pipeline(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Money>> {
        let progress = progress_of(ctx, self.0.id).await?;
        let mut sums = Amounts::default();
        for (_, figures) in &progress.accounts {
            sums.merge(&figures.pipeline);
        }
        Ok(sums.to_money())
    }
    async fn target_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PlanAccountActual>> {
        let progress = progress_of(ctx, self.0.id).await?;
        Ok(progress
            .accounts
            .iter()
            .map(|(row, figures)| PlanAccountActual {
                account: PlanTargetAccount(row.clone().into()),
                open_registrations: figures.open_registrations,
                pipeline: figures.pipeline.to_money(),
                won_revenue: figures.won.to_money(),
            })
            .collect())
    }
    async fn enablement(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlanNeedActual>> {
        let progress = progress_of(ctx, self.0.id).await?;
        let today = Utc::now().date_naive();
        let items = progress
            .needs
            .iter()
            .map(|(n, _)| n.clone().into())
            .collect();
        let seen = super::contents_types::needs_seen(ctx, items).await?;
        Ok(seen
            .into_iter()
            .zip(progress.needs.iter())
            .map(|(need, (row, earned))| PlanNeedActual {
                need,
                earned: *earned,
                status: need_status(*earned, row.required_count, row.due_date, today).into(),
            })
            .collect())
    }
    /// Certifications the partner's people earned in the period.
    async fn certifications_earned(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(progress_of(ctx, self.0.id).await?.certifications_earned)
    }
    /// Leads the partner converted in the period.
    async fn leads_converted(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(progress_of(ctx, self.0.id).await?.leads_converted)
    }
    /// Each objective against its computed measure.
    async fn objectives(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PlanObjectiveResult>> {
        let objectives = load_group::<ObjectivesByPlan>(ctx, self.0.id).await?;
        let (results, _) = scorecard::results(&objectives, &self.figures(ctx).await?);
        Ok(results.into_iter().map(Into::into).collect())
    }
    /// The objectives' attainments weighted, each counted at most 100 % (null without
    /// objectives).
    async fn weighted_attainment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        let objectives = load_group::<ObjectivesByPlan>(ctx, self.0.id).await?;
        Ok(scorecard::results(&objectives, &self.figures(ctx).await?).1)
    }
}

async fn plans_of(db: &Db, keys: &[i64]) -> Result<Vec<plan::Model>, AppError> {
    Ok(plan::Entity::find()
        .filter(plan::Column::Id.is_in(keys.to_vec()))
        .all(db)
        .await?)
}

/// The revenue of a page of plans, in one read (see `service::actuals`).
pub struct ActualsLoader {
    db: Db,
}

impl Loader<i64> for ActualsLoader {
    type Value = Arc<(Rows, Rows)>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let load = async {
            let plans = plans_of(&self.db, keys).await?;
            let found = service::actuals(&self.db, &plans).await?;
            Ok::<_, AppError>(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
        };
        load.await.map_err(Arc::new)
    }
}

impl Made<i64> for ActualsLoader {
    fn new(db: &Db) -> Self {
        ActualsLoader { db: db.clone() }
    }
}

/// The progress of a page of plans, in one read (see `progress::of`).
pub struct ProgressLoader {
    db: Db,
}

impl Loader<i64> for ProgressLoader {
    type Value = Arc<Progress>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let load = async {
            let plans = plans_of(&self.db, keys).await?;
            let found = progress::of(&self.db, &plans).await?;
            Ok::<_, AppError>(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
        };
        load.await.map_err(Arc::new)
    }
}

impl Made<i64> for ProgressLoader {
    fn new(db: &Db) -> Self {
        ProgressLoader { db: db.clone() }
    }
}
