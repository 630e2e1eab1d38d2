use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    account, direct_opportunity as opportunity, direct_opportunity_history as history,
    opportunity_influence as influence,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::{policy, service, stages};
use crate::auth::actor;
use crate::db::Db;
use crate::deals::{Account, ACCOUNT_KIND};
use crate::loaders::{load_group, load_one, HistoryByOpportunity, InfluencesByOpportunity};
use crate::money::{Money, MoneyInput};
use crate::partners::Partner;
use crate::relay::{
    global_id, local_id, paginate, paginate_loaded, PageArgs, RelayConnection, UserError,
    UserErrorCode,
};
use crate::users::User;

pub const NODE_KIND: &str = "DirectOpportunity";

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::OpportunityStage")]
pub enum OpportunityStage {
    Prospecting,
    Qualification,
    Proposal,
    Negotiation,
    Won,
    Lost,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::InfluenceRole")]
pub enum InfluenceRole {
    Referral,
    CoSell,
    Implementation,
    Fulfillment,
    Support,
}

/// A direct rep's own opportunity. Partners see those they influenced ("you influenced
/// this"), with their own influence records only and without the account's details.
pub struct DirectOpportunity(pub opportunity::Model);

#[Object]
impl DirectOpportunity {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The account's name (shown to everyone who sees the opportunity).
    async fn account_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(load_one::<account::Entity>(ctx, self.0.account_id)
            .await?
            .map(|a| a.name))
    }
    /// The account (vendor staff; null for partners).
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        if !policy::sees_account(actor(ctx)?.as_ref()) {
            return Ok(None);
        }
        Ok(load_one::<account::Entity>(ctx, self.0.account_id)
            .await?
            .map(Account))
    }
    /// The direct rep who owns it.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, Some(self.0.owner_id)).await
    }
    async fn amount(&self) -> Money {
        Money::from_minor(self.0.amount_minor, &self.0.currency)
    }
    async fn stage(&self) -> OpportunityStage {
        self.0.stage.into()
    }
    /// The same as `stage`, as every workflow object names it.
    async fn status(&self) -> OpportunityStage {
        self.0.stage.into()
    }
    /// Stages the caller can move it to.
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<OpportunityStage>> {
        if !policy::can_change(actor(ctx)?.as_ref(), &self.0) {
            return Ok(vec![]);
        }
        Ok(stages::allowed(self.0.stage)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    async fn close_date(&self) -> NaiveDate {
        self.0.close_date
    }
    /// When it was won or lost.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// The partners that influenced it (a partner sees its own organisation's records).
    async fn influences(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<OpportunityInfluence>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let mut rows = load_group::<InfluencesByOpportunity>(ctx, self.0.id).await?;
        if let Some(scope) = policy::visible_influencers(db, &actor).await.extend()? {
            rows.retain(|r| scope.allows(r.partner_id));
        }
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |r| r.id,
            OpportunityInfluence,
        )
        .extend()
    }
    /// Every stage change, oldest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<OpportunityHistoryEntry>> {
        let rows = load_group::<HistoryByOpportunity>(ctx, self.0.id).await?;
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |h| h.id,
            OpportunityHistoryEntry,
        )
        .extend()
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A partner's part in a direct opportunity.
pub struct OpportunityInfluence(influence::Model);

#[Object]
impl OpportunityInfluence {
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.0.partner_id)
            .await?
            .map(Partner))
    }
    async fn role(&self) -> InfluenceRole {
        self.0.role.into()
    }
    async fn added_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.added_by_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct OpportunityHistoryEntry(history::Model);

#[Object]
impl OpportunityHistoryEntry {
    async fn from_stage(&self) -> Option<OpportunityStage> {
        self.0.from_stage.map(Into::into)
    }
    async fn to_stage(&self) -> OpportunityStage {
        self.0.to_stage.into()
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject, Default)]
pub struct DirectOpportunityFilter {
    pub stages: Option<Vec<OpportunityStage>>,
    pub owner_id: Option<ID>,
    /// Opportunities this partner influenced.
    pub partner_id: Option<ID>,
}

#[derive(Default)]
pub struct OpportunityQuery;

#[Object]
impl OpportunityQuery {
    /// Direct opportunities the caller sees: a manager all, a rep its own, a partner those
    /// it influenced. Oldest first.
    async fn direct_opportunities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DirectOpportunityFilter>,
    ) -> async_graphql::Result<RelayConnection<DirectOpportunity>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let filter = filter.unwrap_or_default();
        let mut select = policy::visible_select(db, &actor).await.extend()?;
        if let Some(stages) = filter.stages {
            let stored: Vec<entity::enums::OpportunityStage> =
                stages.into_iter().map(Into::into).collect();
            select = select.filter(opportunity::Column::Stage.is_in(stored));
        }
        if let Some(owner) = filter.owner_id {
            let id = local_id(&owner, crate::users::NODE_KIND).unwrap_or(-1);
            select = select.filter(opportunity::Column::OwnerId.eq(id));
        }
        if let Some(partner) = filter.partner_id {
            let id = local_id(&partner, crate::partners::NODE_KIND).unwrap_or(-1);
            let influenced = influence::Entity::find()
                .select_only()
                .column(influence::Column::OpportunityId)
                .filter(influence::Column::PartnerId.eq(id))
                .into_query();
            select = select.filter(opportunity::Column::Id.in_subquery(influenced));
        }
        paginate(
            db,
            select,
            opportunity::Column::Id,
            &PageArgs::new(first, after, last, before),
            |o| o.id,
            DirectOpportunity,
        )
        .await
        .extend()
    }
}

#[derive(InputObject)]
pub struct CreateDirectOpportunityInput {
    pub account_id: ID,
    pub name: String,
    pub amount: MoneyInput,
    pub close_date: NaiveDate,
    /// An open stage; `PROSPECTING` by default.
    pub stage: Option<OpportunityStage>,
    /// The direct rep who owns it: a rep's own by default; a manager names one.
    pub owner_id: Option<ID>,
    /// Replaying a call with the same key returns the first result and creates nothing.
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateDirectOpportunityInput {
    pub id: ID,
    /// The version read; a stale one changes nothing.
    pub version: Option<i32>,
    pub name: Option<String>,
    pub amount: Option<MoneyInput>,
    pub close_date: Option<NaiveDate>,
    /// Another stage (see `allowedTransitions`); `WON` or `LOST` closes it.
    pub stage: Option<OpportunityStage>,
    /// When it was won or lost (now by default; never in the future).
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct OpportunityInfluenceInput {
    pub opportunity_id: ID,
    pub partner_id: ID,
    /// Required to add; ignored to remove.
    pub role: Option<InfluenceRole>,
}

#[derive(SimpleObject, Default)]
pub struct DirectOpportunityPayload {
    pub direct_opportunity: Option<DirectOpportunity>,
    pub user_errors: Vec<UserError>,
}

fn payload(result: Result<opportunity::Model, Vec<UserError>>) -> DirectOpportunityPayload {
    match result {
        Ok(model) => DirectOpportunityPayload {
            direct_opportunity: Some(DirectOpportunity(model)),
            user_errors: vec![],
        },
        Err(user_errors) => DirectOpportunityPayload {
            direct_opportunity: None,
            user_errors,
        },
    }
}

fn refused(field: &str, message: &str) -> DirectOpportunityPayload {
    DirectOpportunityPayload {
        direct_opportunity: None,
        user_errors: UserError::one(field, UserErrorCode::NotFound, message),
    }
}

/// The opportunity `id` names, if the caller sees it.
async fn visible(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<opportunity::Model>> {
    let actor = actor(ctx)?;
    let db = ctx.data::<Db>()?;
    let Some(local) = local_id(id, NODE_KIND) else {
        return Ok(None);
    };
    service::find_visible(db, &actor, local).await.extend()
}

/// The opportunity (one the caller sees) and partner an influence input names, or the
/// payload refusing it.
async fn influence_target(
    ctx: &Context<'_>,
    input: &OpportunityInfluenceInput,
) -> async_graphql::Result<Result<(opportunity::Model, i64), DirectOpportunityPayload>> {
    let Some(current) = visible(ctx, &input.opportunity_id).await? else {
        return Ok(Err(refused("opportunityId", "no such opportunity")));
    };
    match local_id(&input.partner_id, crate::partners::NODE_KIND) {
        Some(partner_id) => Ok(Ok((current, partner_id))),
        None => Ok(Err(refused("partnerId", "no partner with this id"))),
    }
}

#[derive(Default)]
pub struct OpportunityMutation;

#[Object]
impl OpportunityMutation {
    /// Creates a direct opportunity on an account (direct reps and channel managers).
    async fn create_direct_opportunity(
        &self,
        ctx: &Context<'_>,
        input: CreateDirectOpportunityInput,
    ) -> async_graphql::Result<DirectOpportunityPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(account_id) = local_id(&input.account_id, ACCOUNT_KIND) else {
            return Ok(refused("accountId", "no account with this id"));
        };
        let owner_id = match &input.owner_id {
            Some(id) => match local_id(id, crate::users::NODE_KIND) {
                Some(local) => Some(local),
                None => return Ok(refused("ownerId", "no user with this id")),
            },
            None => None,
        };
        let new = service::NewOpportunity {
            account_id,
            name: input.name,
            amount: input.amount,
            close_date: input.close_date,
            stage: input.stage.map(Into::into),
            owner_id,
        };
        Ok(payload(
            service::create(db, &actor, new, input.idempotency_key)
                .await
                .extend()?,
        ))
    }

    /// Changes an opportunity's name, amount, close date or stage (its owner or a manager).
    async fn update_direct_opportunity(
        &self,
        ctx: &Context<'_>,
        input: UpdateDirectOpportunityInput,
    ) -> async_graphql::Result<DirectOpportunityPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(refused("id", "no such opportunity"));
        };
        let change = service::Change {
            version: input.version,
            name: input.name,
            amount: input.amount,
            close_date: input.close_date,
            stage: input.stage.map(Into::into),
            closed_at: input.closed_at,
        };
        Ok(payload(
            service::change(db, &actor, current, change)
                .await
                .extend()?,
        ))
    }

    /// Records that a partner influenced an opportunity; the partner sees it from then on.
    async fn add_opportunity_influence(
        &self,
        ctx: &Context<'_>,
        input: OpportunityInfluenceInput,
    ) -> async_graphql::Result<DirectOpportunityPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let (current, partner_id) = match influence_target(ctx, &input).await? {
            Ok(target) => target,
            Err(refusal) => return Ok(refusal),
        };
        let Some(role) = input.role else {
            return Ok(DirectOpportunityPayload {
                direct_opportunity: None,
                user_errors: UserError::one("role", UserErrorCode::Required, "is required"),
            });
        };
        Ok(
            match service::add_influence(db, &actor, &current, partner_id, role.into())
                .await
                .extend()?
            {
                Ok(_) => payload(Ok(current)),
                Err(errors) => payload(Err(errors)),
            },
        )
    }

    /// Removes a partner's influence record.
    async fn remove_opportunity_influence(
        &self,
        ctx: &Context<'_>,
        input: OpportunityInfluenceInput,
    ) -> async_graphql::Result<DirectOpportunityPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let (current, partner_id) = match influence_target(ctx, &input).await? {
            Ok(target) => target,
            Err(refusal) => return Ok(refusal),
        };
        if !service::remove_influence(db, &actor, &current, partner_id)
            .await
            .extend()?
        {
            return Ok(refused(
                "partnerId",
                "this partner has no influence recorded",
            ));
        }
        Ok(payload(Ok(current)))
    }
}
