use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{joint_business_plan as plan, joint_business_plan_history as history};

use sea_orm::{ColumnTrait, QueryFilter};

use super::loaders::{
    AccountsByPlan, CommentsByPlan, NeedsByPlan, ObjectivesByPlan, ReviewsByPlan, SponsorsByPlan,
};
use super::service::{self, NewPlan, TargetInput};
use super::stages::{self, Move};
use super::{policy, NODE_KIND};
use crate::auth::{actor, Actor};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::{load_group, load_one, HistoryByPlan, TargetsByPlan};
use crate::money::{Money, MoneyInput};
use crate::partners::Partner;
use crate::relay::{
    global_id, local_id, paginate, paginate_loaded, PageArgs, RelayConnection, UserError,
    UserErrorCode,
};

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PlanStatus")]
pub enum PlanStatus {
    /// The vendor's draft: the partner does not see it.
    Draft,
    /// Shared with the partner, waiting for its org admin to accept.
    Shared,
    /// Both sides agreed.
    Active,
    Completed,
    Cancelled,
}

/// A joint business plan with a strategic partner for a period.
pub struct JointBusinessPlan(pub plan::Model);

/// A quarter's revenue target.
#[derive(SimpleObject)]
pub struct PlanTarget {
    pub quarter: String,
    pub amount: Money,
}

#[Object]
impl JointBusinessPlan {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.0.partner_id)
            .await?
            .map(Partner))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    /// The period's last day (inclusive).
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn status(&self) -> PlanStatus {
        self.0.status.into()
    }
    /// Statuses the caller can move it to.
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PlanStatus>> {
        let actor = actor(ctx)?;
        Ok([Move::Share, Move::Accept, Move::Complete, Move::Cancel]
            .into_iter()
            .filter(|m| policy::may(&actor, &self.0, *m))
            .filter_map(|m| stages::target(m, self.0.status))
            .map(Into::into)
            .collect())
    }
    async fn targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlanTarget>> {
        Ok(load_group::<TargetsByPlan>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|t| PlanTarget {
                quarter: t.quarter.clone(),
                amount: Money::from_minor(t.amount_minor, &t.currency),
            })
            .collect())
    }
    /// Accounts pursued together: existing accounts or named prospects.
    async fn target_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::contents_types::PlanTargetAccount>> {
        Ok(load_group::<AccountsByPlan>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|row| super::contents_types::PlanTargetAccount(row.into()))
            .collect())
    }
    /// The enablement the partner needs, with owners and due dates.
    async fn enablement_needs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::contents_types::PlanEnablementNeed>> {
        let rows = load_group::<NeedsByPlan>(ctx, self.0.id).await?;
        super::contents_types::needs_seen(ctx, rows.into_iter().map(Into::into).collect()).await
    }
    /// Executive sponsors of both sides.
    async fn sponsors(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::contents_types::PlanSponsor>> {
        Ok(load_group::<SponsorsByPlan>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|row| super::contents_types::PlanSponsor(row.into()))
            .collect())
    }
    /// Weighted objectives (their attainment is in `actuals`).
    async fn objectives(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::contents_types::PlanObjective>> {
        Ok(load_group::<ObjectivesByPlan>(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|row| super::contents_types::PlanObjective(row.into()))
            .collect())
    }
    /// Both sides' comments and the partner's proposed changes, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<super::talk_types::PlanComment>> {
        let rows = load_group::<CommentsByPlan>(ctx, self.0.id).await?;
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |c| c.id,
            super::talk_types::PlanComment,
        )
        .extend()
    }
    /// Quarterly reviews, oldest first.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<super::talk_types::PlanReview>> {
        let rows = load_group::<ReviewsByPlan>(ctx, self.0.id).await?;
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |r| r.id,
            super::talk_types::PlanReview,
        )
        .extend()
    }
    /// What the partner achieved in the period against the plan, computed when read.
    async fn actuals(&self) -> super::progress_types::PlanActuals {
        super::progress_types::PlanActuals(self.0.clone())
    }
    async fn accepted_by(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::users::User>> {
        crate::users::user_by_id(ctx, self.0.accepted_by_id).await
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// Every status change, oldest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<PlanHistoryEntry>> {
        let rows = load_group::<HistoryByPlan>(ctx, self.0.id).await?;
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |h| h.id,
            PlanHistoryEntry,
        )
        .extend()
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct PlanHistoryEntry(history::Model);

#[Object]
impl PlanHistoryEntry {
    async fn from_status(&self) -> Option<PlanStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> PlanStatus {
        self.0.to_status.into()
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<crate::users::User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The plan `id` names, if the caller sees it.
pub async fn find_visible(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> crate::error::AppResult<Option<plan::Model>> {
    Ok(policy::visible_select(actor)
        .filter(plan::Column::Id.eq(id))
        .one(db)
        .await?)
}

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// Joint business plans the caller sees (a partner: its own, once shared), oldest first.
    async fn joint_business_plans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        partner_id: Option<ID>,
    ) -> async_graphql::Result<RelayConnection<JointBusinessPlan>> {
        let actor = actor(ctx)?;
        let mut select = policy::visible_select(&actor);
        if let Some(partner) = partner_id {
            let id = local_id(&partner, crate::partners::NODE_KIND).unwrap_or(-1);
            select = select.filter(plan::Column::PartnerId.eq(id));
        }
        paginate(
            ctx.data::<Db>()?,
            select,
            plan::Column::Id,
            &PageArgs::new(first, after, last, before),
            |p| p.id,
            JointBusinessPlan,
        )
        .await
        .extend()
    }
}

#[derive(InputObject)]
pub struct PlanTargetInput {
    /// `2027-Q1`: a quarter of the plan's period.
    pub quarter: String,
    pub amount: MoneyInput,
}

#[derive(InputObject)]
pub struct CreateJointBusinessPlanInput {
    pub partner_id: ID,
    pub name: String,
    pub period_start: NaiveDate,
    /// The period's last day (inclusive).
    pub period_end: NaiveDate,
    pub targets: Option<Vec<PlanTargetInput>>,
}

#[derive(InputObject)]
pub struct SetJointBusinessPlanTargetsInput {
    pub id: ID,
    /// Replaces the plan's targets.
    pub targets: Vec<PlanTargetInput>,
}

#[derive(InputObject)]
pub struct JointBusinessPlanActionInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct JointBusinessPlanPayload {
    pub joint_business_plan: Option<JointBusinessPlan>,
    pub user_errors: Vec<UserError>,
}

pub(super) fn payload(result: service::Outcome<plan::Model>) -> JointBusinessPlanPayload {
    match result {
        Ok(model) => JointBusinessPlanPayload {
            joint_business_plan: Some(JointBusinessPlan(model)),
            user_errors: vec![],
        },
        Err(user_errors) => JointBusinessPlanPayload {
            joint_business_plan: None,
            user_errors,
        },
    }
}

pub(super) fn not_found(field: &str) -> JointBusinessPlanPayload {
    JointBusinessPlanPayload {
        joint_business_plan: None,
        user_errors: UserError::one(field, UserErrorCode::NotFound, "not found"),
    }
}

fn targets_of(list: Vec<PlanTargetInput>) -> Vec<TargetInput> {
    list.into_iter()
        .map(|t| TargetInput {
            quarter: t.quarter,
            amount: t.amount,
        })
        .collect()
}

pub(super) async fn visible(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<plan::Model>> {
    let Some(local) = local_id(id, NODE_KIND) else {
        return Ok(None);
    };
    find_visible(ctx.data::<Db>()?, actor(ctx)?.as_ref(), local)
        .await
        .extend()
}

async fn act(
    ctx: &Context<'_>,
    input: JointBusinessPlanActionInput,
    action: Move,
) -> async_graphql::Result<JointBusinessPlanPayload> {
    let Some(current) = visible(ctx, &input.id).await? else {
        return Ok(not_found("id"));
    };
    Ok(payload(
        service::advance(ctx.data::<Db>()?, actor(ctx)?.as_ref(), current, action)
            .await
            .extend()?,
    ))
}

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Drafts a joint business plan with a partner (channel managers).
    async fn create_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: CreateJointBusinessPlanInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        let actor = actor(ctx)?;
        if !policy::can_write(&actor) {
            return Err(AppError::forbidden()).extend();
        }
        let Some(partner_id) = local_id(&input.partner_id, crate::partners::NODE_KIND) else {
            return Ok(not_found("partnerId"));
        };
        let new = NewPlan {
            partner_id,
            name: input.name,
            period_start: input.period_start,
            period_end: input.period_end,
            targets: targets_of(input.targets.unwrap_or_default()),
        };
        Ok(payload(
            service::create(ctx.data::<Db>()?, &actor, new)
                .await
                .extend()?,
        ))
    }

    /// Replaces a draft or shared plan's revenue targets (channel managers).
    async fn set_joint_business_plan_targets(
        &self,
        ctx: &Context<'_>,
        input: SetJointBusinessPlanTargetsInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        let Some(current) = visible(ctx, &input.id).await? else {
            return Ok(not_found("id"));
        };
        let targets = targets_of(input.targets);
        Ok(payload(
            service::set_targets(ctx.data::<Db>()?, actor(ctx)?.as_ref(), current, &targets)
                .await
                .extend()?,
        ))
    }

    /// Shares a draft with its partner (channel managers).
    async fn share_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: JointBusinessPlanActionInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        act(ctx, input, Move::Share).await
    }

    /// The partner's org admin accepts a shared plan: it becomes active.
    async fn accept_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: JointBusinessPlanActionInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        act(ctx, input, Move::Accept).await
    }

    /// Completes an active plan (channel managers).
    async fn complete_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: JointBusinessPlanActionInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        act(ctx, input, Move::Complete).await
    }

    /// Cancels a plan that is not completed (channel managers).
    async fn cancel_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: JointBusinessPlanActionInput,
    ) -> async_graphql::Result<JointBusinessPlanPayload> {
        act(ctx, input, Move::Cancel).await
    }
}
