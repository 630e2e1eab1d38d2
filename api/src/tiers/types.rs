use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::tier;
use rust_decimal::Decimal;
use sea_orm::{EntityTrait, QueryOrder};

use super::rules::{self, Criterion, DEFAULT_PROTECTION_DAYS};
use super::service::{self, TierFields};
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::money::{Money, MoneyInput};
use crate::partners::{self, Partner, PartnerPayload};
use crate::relay::{
    global_id, local_id, paginate_ordered, PageArgs, RelayConnection, UserError, UserErrorCode,
};

pub const NODE_KIND: &str = "Tier";

/// A program tier (rank 1 is the lowest).
#[derive(Clone)]
pub struct Tier(pub tier::Model);

/// What a tier grants.
#[derive(SimpleObject)]
pub struct TierBenefits {
    /// Days an approved deal registration is protected (0 = none).
    pub deal_protection_days: i32,
    pub rebate_eligible: bool,
    pub mdf_eligible: bool,
    /// Content whose audience asks for at least this tier rank is visible.
    pub content_entitlement_rank: i32,
}

/// What a partner must achieve over the trailing period to reach the tier.
#[derive(SimpleObject)]
pub struct TierCriteria {
    pub min_won_revenue: Money,
    pub min_approved_registrations: i32,
    pub min_won_deals: i32,
    pub min_active_certifications: i32,
    pub period_months: i32,
}

#[Object]
impl Tier {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn rank(&self) -> i32 {
        self.0.rank
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn benefits(&self) -> TierBenefits {
        TierBenefits {
            deal_protection_days: self.0.protection_days.unwrap_or(DEFAULT_PROTECTION_DAYS),
            rebate_eligible: self.0.rebate_eligible,
            mdf_eligible: self.0.mdf_eligible,
            content_entitlement_rank: self.0.rank,
        }
    }
    async fn criteria(&self) -> TierCriteria {
        TierCriteria {
            min_won_revenue: Money::from_minor(self.0.min_won_revenue_minor, &self.0.currency),
            min_approved_registrations: self.0.min_approved_registrations,
            min_won_deals: self.0.min_won_deals,
            min_active_certifications: self.0.min_active_certifications,
            period_months: self.0.criteria_period_months,
        }
    }
    /// For optimistic concurrency in `updateTier`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum TierCriterion {
    WonRevenue,
    ApprovedRegistrations,
    WonDeals,
    ActiveCertifications,
}

impl From<Criterion> for TierCriterion {
    fn from(c: Criterion) -> Self {
        match c {
            Criterion::WonRevenue => TierCriterion::WonRevenue,
            Criterion::ApprovedRegistrations => TierCriterion::ApprovedRegistrations,
            Criterion::WonDeals => TierCriterion::WonDeals,
            Criterion::ActiveCertifications => TierCriterion::ActiveCertifications,
        }
    }
}

/// One criterion of the next tier: what is required, what the partner has, whether it is met.
#[derive(SimpleObject)]
pub struct TierCriterionProgress {
    pub criterion: TierCriterion,
    /// Money amounts are in the tier's currency; counts are whole numbers.
    pub required: Decimal,
    pub actual: Decimal,
    pub met: bool,
}

/// Where a partner stands against the tier above it.
#[derive(SimpleObject)]
pub struct TierProgress {
    pub current_tier: Option<Tier>,
    pub next_tier: Option<Tier>,
    pub criteria: Vec<TierCriterionProgress>,
    /// True when the partner meets every criterion of a higher tier; a channel manager
    /// approves the move with `changePartnerTier`.
    pub eligible_for_promotion: bool,
    /// The highest tier whose criteria are all met.
    pub eligible_tier: Option<Tier>,
}

fn as_decimal(criterion: Criterion, value: i64, currency: &str) -> Decimal {
    match criterion {
        Criterion::WonRevenue => Money::from_minor(value, currency).amount,
        _ => Decimal::from(value),
    }
}

/// The progress of `partner` towards the tier above it.
pub async fn partner_progress(
    db: &Db,
    partner: &entity::partner::Model,
) -> crate::error::AppResult<TierProgress> {
    let tiers = service::all_tiers(db).await?;
    // Measured over the trailing period of the tier the partner works towards.
    let current_rank = tiers
        .iter()
        .find(|t| Some(t.id) == partner.tier_id)
        .map_or(0, |t| t.rank);
    let target = tiers
        .iter()
        .filter(|t| t.rank > current_rank)
        .min_by_key(|t| t.rank);
    let (months, currency) = target.map_or((12, crate::money::DEFAULT_CURRENCY), |t| {
        (t.criteria_period_months, t.currency.as_str())
    });
    let metrics = service::metrics(db, partner.id, months, currency).await?;
    let progress = rules::progress(&tiers, partner.tier_id, &metrics);
    let currency = progress
        .next
        .map_or(crate::money::DEFAULT_CURRENCY, |t| t.currency.as_str())
        .to_owned();
    Ok(TierProgress {
        current_tier: progress.current.cloned().map(Tier),
        next_tier: progress.next.cloned().map(Tier),
        criteria: progress
            .next_checks
            .iter()
            .map(|c| TierCriterionProgress {
                criterion: c.criterion.into(),
                required: as_decimal(c.criterion, c.required, &currency),
                actual: as_decimal(c.criterion, c.actual, &currency),
                met: c.met,
            })
            .collect(),
        eligible_for_promotion: progress.eligible.is_some(),
        eligible_tier: progress.eligible.cloned().map(Tier),
    })
}

#[derive(InputObject)]
pub struct TierCriteriaInput {
    pub min_won_revenue: Option<MoneyInput>,
    pub min_approved_registrations: Option<i32>,
    pub min_won_deals: Option<i32>,
    pub min_active_certifications: Option<i32>,
    /// Trailing months the criteria are measured over (1-36, default 12).
    pub period_months: Option<i32>,
}

#[derive(InputObject)]
pub struct CreateTierInput {
    pub name: String,
    pub rank: i32,
    pub description: Option<String>,
    /// Deal-registration protection days: 0 (none), 30, 60, 90 (default) or 120.
    pub protection_days: Option<i32>,
    pub rebate_eligible: Option<bool>,
    pub mdf_eligible: Option<bool>,
    pub criteria: Option<TierCriteriaInput>,
}

#[derive(InputObject)]
pub struct UpdateTierInput {
    pub id: ID,
    /// The `version` you read; a newer one makes this a `STALE_VERSION` user error.
    pub version: i32,
    pub name: Option<String>,
    pub rank: Option<i32>,
    pub description: Option<String>,
    pub protection_days: Option<i32>,
    pub rebate_eligible: Option<bool>,
    pub mdf_eligible: Option<bool>,
    pub criteria: Option<TierCriteriaInput>,
}

#[derive(InputObject)]
pub struct ChangePartnerTierInput {
    pub partner_id: ID,
    pub tier_id: ID,
    pub reason: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct TierPayload {
    pub tier: Option<Tier>,
    pub user_errors: Vec<UserError>,
}

fn fields(
    name: Option<String>,
    rank: Option<i32>,
    description: Option<String>,
    protection_days: Option<i32>,
    rebate_eligible: Option<bool>,
    mdf_eligible: Option<bool>,
    criteria: Option<TierCriteriaInput>,
) -> TierFields {
    let criteria = criteria.unwrap_or(TierCriteriaInput {
        min_won_revenue: None,
        min_approved_registrations: None,
        min_won_deals: None,
        min_active_certifications: None,
        period_months: None,
    });
    TierFields {
        name,
        rank,
        description: description.map(Some),
        protection_days,
        rebate_eligible,
        mdf_eligible,
        min_won_revenue: criteria.min_won_revenue,
        min_approved_registrations: criteria.min_approved_registrations,
        min_won_deals: criteria.min_won_deals,
        min_active_certifications: criteria.min_active_certifications,
        criteria_period_months: criteria.period_months,
    }
}

fn tier_payload(result: Result<tier::Model, Vec<UserError>>) -> TierPayload {
    match result {
        Ok(model) => TierPayload {
            tier: Some(Tier(model)),
            user_errors: vec![],
        },
        Err(user_errors) => TierPayload {
            tier: None,
            user_errors,
        },
    }
}

#[derive(Default)]
pub struct TierQuery;

#[Object]
impl TierQuery {
    /// The program's tiers, lowest rank first. Every signed-in user may read them.
    async fn tiers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Tier>> {
        actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let select = tier::Entity::find()
            .order_by_asc(tier::Column::Rank)
            .order_by_asc(tier::Column::Id);
        paginate_ordered(db, select, &PageArgs::new(first, after, last, before), Tier)
            .await
            .extend()
    }
}

#[derive(Default)]
pub struct TierMutation;

#[Object]
impl TierMutation {
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn create_tier(
        &self,
        ctx: &Context<'_>,
        input: CreateTierInput,
    ) -> async_graphql::Result<TierPayload> {
        let db = ctx.data::<Db>()?;
        let fields = fields(
            Some(input.name),
            Some(input.rank),
            input.description,
            input.protection_days,
            input.rebate_eligible,
            input.mdf_eligible,
            input.criteria,
        );
        Ok(tier_payload(service::create(db, fields).await.extend()?))
    }

    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn update_tier(
        &self,
        ctx: &Context<'_>,
        input: UpdateTierInput,
    ) -> async_graphql::Result<TierPayload> {
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(TierPayload {
                tier: None,
                user_errors: UserError::one("id", UserErrorCode::NotFound, "no such tier"),
            });
        };
        let fields = fields(
            input.name,
            input.rank,
            input.description,
            input.protection_days,
            input.rebate_eligible,
            input.mdf_eligible,
            input.criteria,
        );
        Ok(tier_payload(
            service::update(db, id, input.version, fields)
                .await
                .extend()?,
        ))
    }

    /// Moves a partner to another tier: the channel manager's approval of a promotion
    /// (see `Partner.tierProgress.eligibleForPromotion`) or a demotion. Recorded in `tierHistory`.
    #[graphql(guard = "RoleGuard(&[Role::ChannelManager])")]
    async fn change_partner_tier(
        &self,
        ctx: &Context<'_>,
        input: ChangePartnerTierInput,
    ) -> async_graphql::Result<PartnerPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let (Some(partner_id), Some(tier_id)) = (
            local_id(&input.partner_id, partners::NODE_KIND),
            local_id(&input.tier_id, NODE_KIND),
        ) else {
            return Ok(PartnerPayload::errors(UserError::one(
                "partnerId",
                UserErrorCode::NotFound,
                "no such partner or tier",
            )));
        };
        let result = service::change_partner_tier(db, &actor, partner_id, tier_id, input.reason)
            .await
            .extend()?;
        Ok(PartnerPayload::from_result(result.map(Partner)))
    }
}
