//! The conversation on a plan and its quarterly reviews, in the schema.

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{joint_business_plan_comment as comment, joint_business_plan_review as review};

use super::comments::{self, NODE_KIND as COMMENT_KIND};
use super::contents_types::{JointBusinessPlanChangesInput, PlanProposedChanges};
use super::progress_types::{PlanObjectiveResult, PlanQuarter};
use super::reviews::{self, NewReview, Snapshot, TargetChange, NODE_KIND as REVIEW_KIND};
use super::types::JointBusinessPlan;
use crate::auth::actor;
use crate::db::Db;
use crate::money::{Money, MoneyInput};
use crate::relay::{global_id, local_id, UserError, UserErrorCode};
use crate::users::User;

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ProposalStatus")]
pub enum ProposalStatus {
    /// Waiting for a channel manager.
    Open,
    /// Applied to the plan.
    Accepted,
    Declined,
}

/// A comment on a plan; with `proposedChanges` it is a proposal.
pub struct PlanComment(pub comment::Model);

#[Object(name = "JointBusinessPlanComment")]
impl PlanComment {
    pub async fn id(&self) -> ID {
        global_id(COMMENT_KIND, self.0.id)
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, Some(self.0.author_id)).await
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The change proposed, as it would apply (null for a plain comment).
    async fn proposed_changes(&self) -> Option<PlanProposedChanges> {
        let kept = self.0.proposed_changes.as_deref()?;
        serde_json::from_str(kept).ok().map(PlanProposedChanges)
    }
    async fn proposal_status(&self) -> Option<ProposalStatus> {
        self.0.proposal_status.map(Into::into)
    }
    async fn resolved_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.resolved_by_id).await
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution_note.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A next-quarter target a review changed.
#[derive(SimpleObject)]
pub struct PlanTargetChange {
    pub quarter: String,
    pub currency: String,
    /// Null: there was no target.
    pub from: Option<Money>,
    /// Null: the target was removed.
    pub to: Option<Money>,
}

/// A quarterly review: the attainment as it stood when recorded, both sides' notes, and the
/// next quarter's adjustments.
pub struct PlanReview(pub review::Model);

impl PlanReview {
    fn snapshot(&self) -> Snapshot {
        serde_json::from_str(&self.0.snapshot).unwrap_or_default()
    }
}

#[Object(name = "JointBusinessPlanReview")]
impl PlanReview {
    pub async fn id(&self) -> ID {
        global_id(REVIEW_KIND, self.0.id)
    }
    async fn quarter(&self) -> &str {
        &self.0.quarter
    }
    /// The weighted attainment when the review was recorded.
    async fn weighted_attainment(&self) -> Option<f64> {
        self.snapshot().weighted_attainment
    }
    /// Each objective's attainment when the review was recorded.
    async fn objectives(&self) -> Vec<PlanObjectiveResult> {
        self.snapshot()
            .objectives
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Revenue against targets per quarter when the review was recorded.
    async fn revenue_by_quarter(&self) -> Vec<PlanQuarter> {
        self.snapshot()
            .quarters
            .into_iter()
            .map(Into::into)
            .collect()
    }
    async fn vendor_notes(&self) -> Option<&str> {
        self.0.vendor_notes.as_deref()
    }
    /// What the next quarter changes, in words.
    async fn adjustments(&self) -> Option<&str> {
        self.0.adjustments.as_deref()
    }
    /// The next quarter's targets the review changed.
    async fn target_changes(&self) -> Vec<PlanTargetChange> {
        let changes: Vec<TargetChange> =
            serde_json::from_str(&self.0.target_changes).unwrap_or_default();
        changes
            .into_iter()
            .map(|c| PlanTargetChange {
                from: c.from.map(|m| Money::from_minor(m, &c.currency)),
                to: c.to.map(|m| Money::from_minor(m, &c.currency)),
                quarter: c.quarter,
                currency: c.currency,
            })
            .collect()
    }
    async fn recorded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, Some(self.0.recorded_by_id)).await
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    async fn partner_notes(&self) -> Option<&str> {
        self.0.partner_notes.as_deref()
    }
    async fn partner_noted_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.partner_noted_by_id).await
    }
    async fn partner_noted_at(&self) -> Option<DateTime<Utc>> {
        self.0.partner_noted_at
    }
}

#[derive(InputObject)]
pub struct CommentOnJointBusinessPlanInput {
    pub id: ID,
    pub body: String,
    /// A change proposed with the comment (the partner's users, while the plan is shared).
    pub changes: Option<JointBusinessPlanChangesInput>,
}

#[derive(InputObject)]
pub struct ResolveJointBusinessPlanProposalInput {
    /// The proposal (a comment's id).
    pub id: ID,
    /// Accept (apply the change to the plan) or decline.
    pub accept: bool,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordJointBusinessPlanReviewInput {
    pub id: ID,
    /// `2027-Q1`: a quarter of the plan's period that has begun; one review per quarter.
    pub quarter: String,
    pub vendor_notes: Option<String>,
    /// The next quarter's adjustments, in words.
    pub adjustments: Option<String>,
    /// Replace the next quarter's revenue target in each currency named (zero removes it).
    pub next_quarter_targets: Option<Vec<MoneyInput>>,
}

#[derive(InputObject)]
pub struct AddJointBusinessPlanReviewNotesInput {
    /// The review.
    pub id: ID,
    pub notes: String,
}

#[derive(SimpleObject, Default)]
#[graphql(name = "JointBusinessPlanCommentPayload")]
pub struct PlanCommentPayload {
    pub comment: Option<PlanComment>,
    /// The plan as it is now (changed, when a proposal was accepted).
    pub joint_business_plan: Option<JointBusinessPlan>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
#[graphql(name = "JointBusinessPlanReviewPayload")]
pub struct PlanReviewPayload {
    pub review: Option<PlanReview>,
    pub joint_business_plan: Option<JointBusinessPlan>,
    pub user_errors: Vec<UserError>,
}

fn not_found() -> Vec<UserError> {
    UserError::one("id", UserErrorCode::NotFound, "not found")
}

async fn plan_now(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<JointBusinessPlan>> {
    let found = super::find_visible(ctx.data::<Db>()?, actor(ctx)?.as_ref(), id)
        .await
        .extend()?;
    Ok(found.map(JointBusinessPlan))
}

async fn comment_payload(
    ctx: &Context<'_>,
    result: super::service::Outcome<comment::Model>,
) -> async_graphql::Result<PlanCommentPayload> {
    Ok(match result {
        Ok(model) => PlanCommentPayload {
            joint_business_plan: plan_now(ctx, model.plan_id).await?,
            comment: Some(PlanComment(model)),
            user_errors: vec![],
        },
        Err(user_errors) => PlanCommentPayload {
            user_errors,
            ..Default::default()
        },
    })
}

async fn review_payload(
    ctx: &Context<'_>,
    result: super::service::Outcome<review::Model>,
) -> async_graphql::Result<PlanReviewPayload> {
    Ok(match result {
        Ok(model) => PlanReviewPayload {
            joint_business_plan: plan_now(ctx, model.plan_id).await?,
            review: Some(PlanReview(model)),
            user_errors: vec![],
        },
        Err(user_errors) => PlanReviewPayload {
            user_errors,
            ..Default::default()
        },
    })
}

#[derive(Default)]
pub struct PlanTalkMutation;

#[Object]
impl PlanTalkMutation {
    /// Comments on a plan (vendor staff; the partner's users once it is shared), proposing
    /// a change with it when `changes` is given (the partner, while the plan is shared).
    async fn comment_on_joint_business_plan(
        &self,
        ctx: &Context<'_>,
        input: CommentOnJointBusinessPlanInput,
    ) -> async_graphql::Result<PlanCommentPayload> {
        let Some(plan) = super::types::visible(ctx, &input.id).await? else {
            return Ok(PlanCommentPayload {
                user_errors: not_found(),
                ..Default::default()
            });
        };
        let changes = input
            .changes
            .map(JointBusinessPlanChangesInput::into_changes);
        let result = comments::add(
            ctx.data::<Db>()?,
            actor(ctx)?.as_ref(),
            &plan,
            &input.body,
            changes,
        )
        .await
        .extend()?;
        comment_payload(ctx, result).await
    }

    /// Accepts (applies) or declines the partner's proposed change (channel managers).
    async fn resolve_joint_business_plan_proposal(
        &self,
        ctx: &Context<'_>,
        input: ResolveJointBusinessPlanProposalInput,
    ) -> async_graphql::Result<PlanCommentPayload> {
        let db = ctx.data::<Db>()?;
        let actor = actor(ctx)?;
        let found = match local_id(&input.id, COMMENT_KIND) {
            Some(id) => comments::find_visible(db, &actor, id).await.extend()?,
            None => None,
        };
        let Some((proposal, plan)) = found else {
            return Ok(PlanCommentPayload {
                user_errors: not_found(),
                ..Default::default()
            });
        };
        let result = comments::resolve(
            db,
            &actor,
            proposal,
            plan,
            input.accept,
            input.note.as_deref(),
        )
        .await
        .extend()?;
        comment_payload(ctx, result).await
    }

    /// Records a quarter's review of an active plan (channel managers): the attainment now,
    /// the vendor's notes and the next quarter's adjustments.
    async fn record_joint_business_plan_review(
        &self,
        ctx: &Context<'_>,
        input: RecordJointBusinessPlanReviewInput,
    ) -> async_graphql::Result<PlanReviewPayload> {
        let Some(plan) = super::types::visible(ctx, &input.id).await? else {
            return Ok(PlanReviewPayload {
                user_errors: not_found(),
                ..Default::default()
            });
        };
        let new = NewReview {
            quarter: input.quarter,
            vendor_notes: input.vendor_notes,
            adjustments: input.adjustments,
            next_quarter_targets: input.next_quarter_targets.unwrap_or_default(),
        };
        let result = reviews::record(ctx.data::<Db>()?, actor(ctx)?.as_ref(), plan, new)
            .await
            .extend()?;
        review_payload(ctx, result).await
    }

    /// The partner's org admin adds the partner's notes to a review (once).
    async fn add_joint_business_plan_review_notes(
        &self,
        ctx: &Context<'_>,
        input: AddJointBusinessPlanReviewNotesInput,
    ) -> async_graphql::Result<PlanReviewPayload> {
        let db = ctx.data::<Db>()?;
        let actor = actor(ctx)?;
        let found = match local_id(&input.id, REVIEW_KIND) {
            Some(id) => reviews::find_visible(db, &actor, id).await.extend()?,
            None => None,
        };
        let Some((review, plan)) = found else {
            return Ok(PlanReviewPayload {
                user_errors: not_found(),
                ..Default::default()
            });
        };
        let result = reviews::add_partner_notes(db, &actor, review, plan, &input.notes)
            .await
            .extend()?;
        review_payload(ctx, result).await
    }
}
