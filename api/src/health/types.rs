use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{partner, partner_health_snapshot as snapshot};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::model::{self, Band, Health, HealthModel, Signals};
use super::service;
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::loaders::{load_one, loader, Made};
use crate::partners::Partner;
use crate::relay::{paginate, paginate_loaded, PageArgs, RelayConnection, UserError};

const MANAGERS: &[Role] = &[Role::ChannelManager];

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum HealthBand {
    Healthy,
    Watch,
    AtRisk,
}

impl From<Band> for HealthBand {
    fn from(band: Band) -> Self {
        match band {
            Band::Healthy => HealthBand::Healthy,
            Band::Watch => HealthBand::Watch,
            Band::AtRisk => HealthBand::AtRisk,
        }
    }
}

/// One leading indicator's part of a health score.
#[derive(SimpleObject)]
pub struct HealthFactor {
    /// `registrationTrend`, `engagementTrend`, `training`, `dealRecency` or `portalActivity`.
    pub name: String,
    /// The measure (a count, or days since the last win; -1 for none).
    pub value: f64,
    /// What it is measured against: the window before, the training target, the usual gap.
    pub baseline: f64,
    /// 0-1: how well the value holds up against the baseline.
    pub normalized: f64,
    pub weight: i32,
    /// Points of the score: normalized × weight × 100 / Σ weights, to two decimals.
    pub contribution: Decimal,
    pub explanation: String,
}

/// A partner's health: a score out of 100 whose factors' contributions add up to it.
#[derive(SimpleObject)]
pub struct PartnerHealth {
    pub score: Decimal,
    pub band: HealthBand,
    pub computed_at: DateTime<Utc>,
    pub factors: Vec<HealthFactor>,
}

impl PartnerHealth {
    pub fn of(health: &Health, computed_at: DateTime<Utc>) -> Self {
        PartnerHealth {
            score: health.score,
            band: health.band.into(),
            computed_at,
            factors: health
                .factors
                .iter()
                .map(|f| HealthFactor {
                    name: f.name.clone(),
                    value: f.value,
                    baseline: f.baseline,
                    normalized: f.normalized,
                    weight: f.weight as i32,
                    contribution: f.contribution,
                    explanation: f.explanation.clone(),
                })
                .collect(),
        }
    }
}

/// The health of the partners a request asks about, computed together: one read per
/// signal for a page of partners, not per partner.
pub struct HealthLoader {
    db: Db,
}

impl Loader<i64> for HealthLoader {
    /// The health and the moment it is as of.
    type Value = Arc<(DateTime<Utc>, Health)>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let load = async {
            let model = service::model(&self.db).await?;
            let (as_of, found) =
                service::current_health(&self.db, keys, Utc::now(), &model).await?;
            Ok::<_, AppError>(
                found
                    .into_iter()
                    .map(|(k, v)| (k, Arc::new((as_of, v))))
                    .collect(),
            )
        };
        load.await.map_err(Arc::new)
    }
}

impl Made<i64> for HealthLoader {
    fn new(db: &Db) -> Self {
        HealthLoader { db: db.clone() }
    }
}

/// `Partner.health`: vendor staff only; null for a partner not measured (onboarding,
/// terminated, prospect).
pub async fn health_field(
    ctx: &Context<'_>,
    partner: &partner::Model,
) -> async_graphql::Result<Option<PartnerHealth>> {
    if !actor(ctx)?.is_vendor_staff() {
        return Err(AppError::Forbidden("partner health is for vendor staff".into()).extend());
    }
    if !service::is_measured(partner.status) {
        return Ok(None);
    }
    let found = loader::<i64, HealthLoader>(ctx)
        .await?
        .load_one(partner.id)
        .await
        .map_err(|e| e.extend())?;
    Ok(found.map(|h| PartnerHealth::of(&h.1, h.0)))
}

/// A day's kept health.
pub struct HealthSnapshot(snapshot::Model);

#[Object]
impl HealthSnapshot {
    async fn day(&self) -> NaiveDate {
        self.0.day
    }
    async fn score(&self) -> Decimal {
        Decimal::new(i64::from(self.0.score_hundredths), 2)
    }
    async fn band(&self) -> HealthBand {
        match self.0.band {
            entity::enums::HealthBand::Healthy => HealthBand::Healthy,
            entity::enums::HealthBand::Watch => HealthBand::Watch,
            entity::enums::HealthBand::AtRisk => HealthBand::AtRisk,
        }
    }
    async fn factors(&self) -> Vec<HealthFactor> {
        service::kept(&self.0)
            .map(|h| PartnerHealth::of(&h, self.0.created_at).factors)
            .unwrap_or_default()
    }
}

/// `Partner.healthHistory`: the daily snapshots, oldest first (vendor staff).
pub async fn history_field(
    ctx: &Context<'_>,
    partner: &partner::Model,
    args: PageArgs,
) -> async_graphql::Result<RelayConnection<HealthSnapshot>> {
    if !actor(ctx)?.is_vendor_staff() {
        return Err(AppError::Forbidden("partner health is for vendor staff".into()).extend());
    }
    let db = ctx.data::<Db>()?;
    let select = snapshot::Entity::find().filter(snapshot::Column::PartnerId.eq(partner.id));
    paginate(
        db,
        select,
        snapshot::Column::Id,
        &args,
        |s| s.id,
        HealthSnapshot,
    )
    .await
    .extend()
}

/// A partner in trouble, and the factor that moved most. The list ranks every measured
/// partner; only a page's rows read their partner and earlier snapshot (in one batch each).
pub struct AtRiskPartner {
    partner_id: i64,
    health: Health,
    computed_at: DateTime<Utc>,
}

impl AtRiskPartner {
    async fn earlier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Arc<Earlier>>> {
        loader::<i64, EarlierLoader>(ctx)
            .await?
            .load_one(self.partner_id)
            .await
            .map_err(|e| e.extend())
    }

    async fn moved(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<(String, Option<Decimal>, Option<NaiveDate>)> {
        let earlier = self.earlier(ctx).await?;
        let (name, change) = model::moved_most(&self.health, earlier.as_ref().map(|e| &e.1));
        Ok((name, change, earlier.map(|e| e.0)))
    }
}

#[Object]
impl AtRiskPartner {
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Partner> {
        load_one::<partner::Entity>(ctx, self.partner_id)
            .await?
            .map(Partner)
            .ok_or_else(|| AppError::NotFound("partner".into()).extend())
    }
    async fn health(&self) -> PartnerHealth {
        PartnerHealth::of(&self.health, self.computed_at)
    }
    /// The factor whose contribution fell most since `comparedWith` (without an earlier
    /// snapshot: the factor that costs the most points now).
    async fn factor_moved_most(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self.moved(ctx).await?.0)
    }
    /// Its change in points since `comparedWith` (null without an earlier snapshot).
    async fn change(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Decimal>> {
        Ok(self.moved(ctx).await?.1)
    }
    /// The snapshot day compared with (the latest at least 30 days old).
    async fn compared_with(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NaiveDate>> {
        Ok(self.moved(ctx).await?.2)
    }
}

/// A partner's health on its latest snapshot at least 30 days old, and that day.
pub struct Earlier(NaiveDate, Health);

/// The earlier snapshots of a page of partners, in one read.
pub struct EarlierLoader {
    db: Db,
}

impl Loader<i64> for EarlierLoader {
    type Value = Arc<Earlier>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Arc<Earlier>>, Self::Error> {
        let found = service::earlier(&self.db, keys, Utc::now().date_naive())
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, (day, health))| (id, Arc::new(Earlier(day, health))))
            .collect())
    }
}

impl Made<i64> for EarlierLoader {
    fn new(db: &Db) -> Self {
        EarlierLoader { db: db.clone() }
    }
}

#[derive(SimpleObject)]
pub struct HealthModelWeights {
    pub registration_trend: i32,
    pub engagement_trend: i32,
    pub training: i32,
    pub deal_recency: i32,
    pub portal_activity: i32,
}

/// How partner health is scored.
#[derive(SimpleObject)]
#[graphql(name = "HealthModel")]
pub struct HealthModelView {
    pub weights: HealthModelWeights,
    pub healthy_at: i32,
    pub watch_at: i32,
    pub training_target: i32,
    pub default_deal_gap_days: i32,
}

impl From<&HealthModel> for HealthModelView {
    fn from(m: &HealthModel) -> Self {
        HealthModelView {
            weights: HealthModelWeights {
                registration_trend: m.registration_trend as i32,
                engagement_trend: m.engagement_trend as i32,
                training: m.training as i32,
                deal_recency: m.deal_recency as i32,
                portal_activity: m.portal_activity as i32,
            },
            healthy_at: m.healthy_at as i32,
            watch_at: m.watch_at as i32,
            training_target: m.training_target as i32,
            default_deal_gap_days: m.default_deal_gap_days as i32,
        }
    }
}

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// The weights and thresholds partner health is scored with (channel managers).
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn health_model(&self, ctx: &Context<'_>) -> async_graphql::Result<HealthModelView> {
        let db = ctx.data::<Db>()?;
        Ok((&service::model(db).await.extend()?).into())
    }

    /// Measured partners in the given bands (`AT_RISK` and `WATCH` by default), worst
    /// score first, each with the factor that moved most (channel managers).
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    #[allow(clippy::too_many_arguments)]
    async fn at_risk_partners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        bands: Option<Vec<HealthBand>>,
    ) -> async_graphql::Result<RelayConnection<AtRiskPartner>> {
        let db = ctx.data::<Db>()?;
        let bands = bands.unwrap_or_else(|| vec![HealthBand::AtRisk, HealthBand::Watch]);
        let model = service::model(db).await.extend()?;
        let ranked = ranked(db, Utc::now(), &model, &bands);
        let (computed_at, ranked) = crate::reports::in_turn(ranked).await.extend()?;
        // The rank is the cursor: positions in the worst-first order. Only the page's
        // partners get their factors explained.
        let rows: Vec<(i64, (i64, Signals))> = ranked
            .into_iter()
            .enumerate()
            .map(|(rank, row)| (rank as i64 + 1, row))
            .collect();
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |r| r.0,
            move |(_, (partner_id, signals))| AtRiskPartner {
                partner_id,
                health: model::score(&signals, &model),
                computed_at,
            },
        )
        .extend()
    }
}

/// Measured partners in `bands` with their signals, worst score first (ties by id), and the
/// moment their signals are as of.
async fn ranked(
    db: &Db,
    now: DateTime<Utc>,
    health_model: &HealthModel,
    bands: &[HealthBand],
) -> AppResult<(DateTime<Utc>, Vec<(i64, Signals)>)> {
    let (as_of, ids, mut signals) = service::program_signals(db, now).await?;
    let mut all: Vec<(Decimal, i64, Signals)> = ids
        .into_iter()
        .map(|id| {
            let s = signals.remove(&id).unwrap_or_default();
            (model::rank(&s, health_model), id, s)
        })
        .filter(|(h, _, _)| bands.contains(&h.band.into()))
        .map(|(h, id, s)| (h.score, id, s))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok((as_of, all.into_iter().map(|(_, id, s)| (id, s)).collect()))
}

#[derive(InputObject, Default)]
pub struct HealthWeightsInput {
    pub registration_trend: Option<i32>,
    pub engagement_trend: Option<i32>,
    pub training: Option<i32>,
    pub deal_recency: Option<i32>,
    pub portal_activity: Option<i32>,
}

/// What to change in the model; what is left out keeps its value.
#[derive(InputObject, Default)]
pub struct SetHealthModelInput {
    pub weights: Option<HealthWeightsInput>,
    pub healthy_at: Option<i32>,
    pub watch_at: Option<i32>,
    pub training_target: Option<i32>,
    pub default_deal_gap_days: Option<i32>,
}

#[derive(SimpleObject, Default)]
pub struct HealthModelPayload {
    pub health_model: Option<HealthModelView>,
    pub user_errors: Vec<UserError>,
}

/// A value from the input, or what the model had; a negative value cannot be a weight.
fn merged(value: Option<i32>, current: u32) -> u32 {
    match value {
        Some(v) if v < 0 => u32::MAX,
        Some(v) => v as u32,
        None => current,
    }
}

#[derive(Default)]
pub struct HealthMutation;

#[Object]
impl HealthMutation {
    /// Changes the weights and thresholds of partner health; every score follows at once.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn set_health_model(
        &self,
        ctx: &Context<'_>,
        input: SetHealthModelInput,
    ) -> async_graphql::Result<HealthModelPayload> {
        let db = ctx.data::<Db>()?;
        let current = service::model(db).await.extend()?;
        let w = input.weights.unwrap_or_default();
        let new = HealthModel {
            registration_trend: merged(w.registration_trend, current.registration_trend),
            engagement_trend: merged(w.engagement_trend, current.engagement_trend),
            training: merged(w.training, current.training),
            deal_recency: merged(w.deal_recency, current.deal_recency),
            portal_activity: merged(w.portal_activity, current.portal_activity),
            healthy_at: merged(input.healthy_at, current.healthy_at),
            watch_at: merged(input.watch_at, current.watch_at),
            training_target: merged(input.training_target, current.training_target),
            default_deal_gap_days: merged(
                input.default_deal_gap_days,
                current.default_deal_gap_days,
            ),
        };
        Ok(match service::set_model(db, new).await.extend()? {
            Ok(model) => HealthModelPayload {
                health_model: Some((&model).into()),
                user_errors: vec![],
            },
            Err(user_errors) => HealthModelPayload {
                health_model: None,
                user_errors,
            },
        })
    }
}
