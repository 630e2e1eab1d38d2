use async_graphql::{Context, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::enums::ProspectStatus as StoredStatus;
use entity::{fit_criterion, prospect};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::service::{self, CriterionInput, ProspectFields};
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::loaders::{load_group, load_one, RatingsByProspect};
use crate::partners::{Partner, PartnerType};
use crate::relay::{
    global_id, local_id, paginate_ordered, PageArgs, RelayConnection, UserError, UserErrorCode,
};

pub const NODE_KIND: &str = "Prospect";

const STAFF: &[Role] = &[Role::ChannelManager, Role::DirectRep];
const MANAGERS: &[Role] = &[Role::ChannelManager];

#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ProspectStatus")]
pub enum ProspectStatus {
    Open,
    Converted,
    Declined,
}

/// A weighted criterion of the ideal partner profile.
#[derive(SimpleObject, Clone)]
pub struct FitCriterion {
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    /// Relative weight, 0-100; weights need not add up to 100.
    pub weight: i32,
}

impl From<fit_criterion::Model> for FitCriterion {
    fn from(model: fit_criterion::Model) -> Self {
        FitCriterion {
            key: model.key,
            label: model.label,
            description: model.description,
            weight: model.weight,
        }
    }
}

/// One criterion's part of a fit score.
#[derive(SimpleObject)]
pub struct FitScoreCriterion {
    pub criterion: FitCriterion,
    /// The prospect's rating, 0-10 (0 when not rated yet).
    pub value: i32,
    pub rated: bool,
    pub weight: i32,
    /// Points this criterion adds to the total: value × weight × 10 / Σ weights.
    pub contribution: Decimal,
}

/// How well a prospect fits the ideal partner profile, out of 100, with the working.
#[derive(SimpleObject)]
pub struct FitScore {
    /// Σ contributions, 0-100.
    pub total: Decimal,
    pub criteria: Vec<FitScoreCriterion>,
}

/// The profile, read once per request however many prospects are scored.
#[derive(Default)]
pub struct ProfileCache(tokio::sync::OnceCell<Vec<fit_criterion::Model>>);

async fn profile<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Vec<fit_criterion::Model>> {
    let db = ctx.data::<Db>()?;
    let cache = ctx.data::<ProfileCache>()?;
    cache
        .0
        .get_or_try_init(|| async { service::criteria(db).await })
        .await
        .extend()
}

/// A prospective partner being recruited.
pub struct Prospect(pub prospect::Model);

#[Object]
impl Prospect {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    #[graphql(name = "type")]
    async fn partner_type(&self) -> PartnerType {
        self.0.partner_type.into()
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn status(&self) -> ProspectStatus {
        self.0.status.into()
    }

    /// The explainable fit score against the current ideal partner profile.
    async fn fit_score(&self, ctx: &Context<'_>) -> async_graphql::Result<FitScore> {
        let criteria = profile(ctx).await?;
        let ratings = load_group::<RatingsByProspect>(ctx, self.0.id).await?;
        let score = service::score_of(criteria, &ratings);
        let breakdown = criteria
            .iter()
            .zip(score.contributions)
            .map(|(criterion, contribution)| {
                let rating = ratings.iter().find(|r| r.criterion_id == criterion.id);
                FitScoreCriterion {
                    criterion: criterion.clone().into(),
                    value: rating.map_or(0, |r| r.value),
                    rated: rating.is_some(),
                    weight: criterion.weight,
                    contribution,
                }
            })
            .collect();
        Ok(FitScore {
            total: score.total,
            criteria: breakdown,
        })
    }

    /// The partner this prospect became.
    async fn converted_partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        match self.0.converted_partner_id {
            Some(id) => Ok(load_one::<entity::partner::Entity>(ctx, id)
                .await?
                .map(Partner)),
            None => Ok(None),
        }
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct RecruitmentQuery;

#[Object]
impl RecruitmentQuery {
    /// The ideal partner profile: criteria prospects are scored on (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn ideal_partner_profile(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<FitCriterion>> {
        Ok(profile(ctx)
            .await?
            .iter()
            .cloned()
            .map(Into::into)
            .collect())
    }

    /// Prospects, best fit first (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn prospects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<ProspectStatus>,
    ) -> async_graphql::Result<RelayConnection<Prospect>> {
        let db = ctx.data::<Db>()?;
        let mut select = prospect::Entity::find()
            .order_by_desc(prospect::Column::FitScoreHundredths)
            .order_by_asc(prospect::Column::Id);
        if let Some(status) = status {
            select = select.filter(prospect::Column::Status.eq(StoredStatus::from(status)));
        }
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            Prospect,
        )
        .await
        .extend()
    }
}

#[derive(InputObject)]
pub struct FitCriterionInput {
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    pub weight: i32,
}

#[derive(InputObject)]
pub struct SetIdealPartnerProfileInput {
    /// The whole profile, in display order; criteria left out are removed.
    pub criteria: Vec<FitCriterionInput>,
}

#[derive(SimpleObject, Default)]
pub struct IdealPartnerProfilePayload {
    pub criteria: Option<Vec<FitCriterion>>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject, Clone)]
pub struct ProspectRatingInput {
    pub criterion_key: String,
    /// 0-10.
    pub value: i32,
}

#[derive(InputObject)]
pub struct ProspectInput {
    /// Required to update; absent to create.
    pub id: Option<ID>,
    pub name: Option<String>,
    pub website: Option<String>,
    #[graphql(name = "type")]
    pub partner_type: Option<PartnerType>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
    /// Ratings to set; others keep their value.
    #[graphql(default)]
    pub ratings: Vec<ProspectRatingInput>,
}

#[derive(InputObject)]
pub struct ProspectDecisionInput {
    pub id: ID,
    pub reason: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct ProspectPayload {
    pub prospect: Option<Prospect>,
    /// The partner created by `convertProspect`.
    pub partner: Option<Partner>,
    pub user_errors: Vec<UserError>,
}

fn prospect_payload(result: Result<prospect::Model, Vec<UserError>>) -> ProspectPayload {
    match result {
        Ok(model) => ProspectPayload {
            prospect: Some(Prospect(model)),
            ..Default::default()
        },
        Err(user_errors) => ProspectPayload {
            user_errors,
            ..Default::default()
        },
    }
}

fn missing_prospect() -> ProspectPayload {
    ProspectPayload {
        user_errors: UserError::one("id", UserErrorCode::NotFound, "no such prospect"),
        ..Default::default()
    }
}

fn fields(input: ProspectInput) -> ProspectFields {
    ProspectFields {
        name: input.name,
        website: input.website,
        partner_type: input.partner_type.map(Into::into),
        country: input.country,
        region: input.region,
        notes: input.notes,
        ratings: input
            .ratings
            .into_iter()
            .map(|r| (r.criterion_key, r.value))
            .collect(),
    }
}

#[derive(Default)]
pub struct RecruitmentMutation;

#[Object]
impl RecruitmentMutation {
    /// Replaces the ideal partner profile; every prospect is re-scored.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn set_ideal_partner_profile(
        &self,
        ctx: &Context<'_>,
        input: SetIdealPartnerProfileInput,
    ) -> async_graphql::Result<IdealPartnerProfilePayload> {
        let db = ctx.data::<Db>()?;
        let criteria = input
            .criteria
            .into_iter()
            .map(|c| CriterionInput {
                key: c.key,
                label: c.label,
                description: c.description,
                weight: c.weight,
            })
            .collect();
        Ok(match service::set_criteria(db, criteria).await.extend()? {
            Ok(models) => IdealPartnerProfilePayload {
                criteria: Some(models.into_iter().map(Into::into).collect()),
                user_errors: vec![],
            },
            Err(user_errors) => IdealPartnerProfilePayload {
                criteria: None,
                user_errors,
            },
        })
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_prospect(
        &self,
        ctx: &Context<'_>,
        input: ProspectInput,
    ) -> async_graphql::Result<ProspectPayload> {
        let db = ctx.data::<Db>()?;
        Ok(prospect_payload(
            service::create(db, fields(input)).await.extend()?,
        ))
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn update_prospect(
        &self,
        ctx: &Context<'_>,
        input: ProspectInput,
    ) -> async_graphql::Result<ProspectPayload> {
        let db = ctx.data::<Db>()?;
        let Some(id) = input.id.as_ref().and_then(|id| local_id(id, NODE_KIND)) else {
            return Ok(missing_prospect());
        };
        Ok(prospect_payload(
            service::update(db, id, fields(input)).await.extend()?,
        ))
    }

    /// Creates a partner in `ONBOARDING` from an open prospect.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn convert_prospect(
        &self,
        ctx: &Context<'_>,
        input: ProspectDecisionInput,
    ) -> async_graphql::Result<ProspectPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(missing_prospect());
        };
        Ok(match service::convert(db, &actor, id).await.extend()? {
            Ok((prospect, partner)) => ProspectPayload {
                prospect: Some(Prospect(prospect)),
                partner: Some(Partner(partner)),
                user_errors: vec![],
            },
            Err(user_errors) => ProspectPayload {
                user_errors,
                ..Default::default()
            },
        })
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn decline_prospect(
        &self,
        ctx: &Context<'_>,
        input: ProspectDecisionInput,
    ) -> async_graphql::Result<ProspectPayload> {
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Ok(missing_prospect());
        };
        Ok(prospect_payload(
            service::decline(db, id, input.reason).await.extend()?,
        ))
    }
}

/// For `node(id:)`: prospects exist only for vendor staff.
pub async fn find_for(
    db: &Db,
    actor: &crate::auth::Actor,
    id: i64,
) -> crate::error::AppResult<Option<prospect::Model>> {
    if !actor.is_vendor_staff() {
        return Ok(None);
    }
    Ok(prospect::Entity::find_by_id(id).one(db).await?)
}
