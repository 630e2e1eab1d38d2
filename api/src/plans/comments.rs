//! The conversation on a plan: comments from both sides, and the partner's proposed changes,
//! which a channel manager accepts (checked again and applied to the plan) or declines.

use chrono::Utc;
use entity::enums::ProposalStatus;
use entity::{joint_business_plan as plan, joint_business_plan_comment as comment};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;

use super::changes::{self, PlanChanges};
use super::policy;
use super::service::{apply, frozen, Outcome};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::integrations::text;
use crate::relay::{global_id, UserError, UserErrorCode};

pub const NODE_KIND: &str = "JointBusinessPlanComment";

async fn announce(
    db: &impl ConnectionTrait,
    plan: &plan::Model,
    comment: &comment::Model,
) -> AppResult<()> {
    emit(
        db,
        NewEvent {
            ty: EventType::PlanCommented,
            subject_id: plan.id,
            partner_id: (plan.status != entity::enums::PlanStatus::Draft)
                .then_some(plan.partner_id),
            data: json!({
                "id": global_id(super::NODE_KIND, plan.id).to_string(),
                "comment": global_id(NODE_KIND, comment.id).to_string(),
                "proposal": comment.proposal_status.is_some(),
                "proposalStatus": comment.proposal_status.map(|s| sea_orm::ActiveEnum::to_value(&s)),
            }),
        },
    )
    .await?;
    Ok(())
}

/// Adds a comment, with a proposed change when `changes` names one (the partner's users, on
/// a shared plan). The proposal is checked now, so what is kept is what would apply.
pub async fn add(
    db: &Db,
    actor: &Actor,
    plan: &plan::Model,
    body: &str,
    changes: Option<PlanChanges>,
) -> AppResult<Outcome<comment::Model>> {
    let proposing = changes.as_ref().is_some_and(|c| !c.is_empty());
    let allowed = if proposing {
        policy::may_propose(actor, plan)
    } else {
        policy::may_comment(actor, plan)
    };
    if !allowed {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::IllegalTransition,
            if proposing {
                "only the partner proposes changes, while the plan is shared"
            } else {
                "this plan takes no more comments from you"
            },
        )));
    }
    let body = match text::required("body", body, 5_000) {
        Ok(body) => body,
        Err(error) => return Ok(Err(vec![error])),
    };
    let proposed = match changes.filter(|_| proposing) {
        Some(changes) => match changes::check(db, actor, plan, &changes).await? {
            Ok(checked) => Some(serde_json::to_string(&checked).map_err(AppError::internal)?),
            Err(errors) => return Ok(Err(prefixed(errors))),
        },
        None => None,
    };
    let txn = crate::db::begin_write(db).await?;
    let created = comment::ActiveModel {
        plan_id: Set(plan.id),
        author_id: Set(actor.user_id),
        body: Set(body),
        proposal_status: Set(proposed.as_ref().map(|_| ProposalStatus::Open)),
        proposed_changes: Set(proposed),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    announce(&txn, plan, &created).await?;
    txn.commit().await?;
    Ok(Ok(created))
}

/// A proposal's problems are named under `changes`.
fn prefixed(errors: Vec<UserError>) -> Vec<UserError> {
    errors
        .into_iter()
        .map(|e| UserError {
            field: e.field.map(|f| format!("changes.{f}")),
            ..e
        })
        .collect()
}

/// The comment `id` names, with its plan, if the caller sees the plan.
pub async fn find_visible(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(comment::Model, plan::Model)>> {
    let Some(found) = comment::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let plan = super::find_visible(db, actor, found.plan_id).await?;
    Ok(plan.map(|plan| (found, plan)))
}

/// A channel manager accepts an open proposal (its changes are checked again and applied to
/// the plan, which must still be open to change) or declines it, with a note.
pub async fn resolve(
    db: &Db,
    actor: &Actor,
    proposal: comment::Model,
    plan: plan::Model,
    accept: bool,
    note: Option<&str>,
) -> AppResult<Outcome<comment::Model>> {
    if !policy::can_write(actor) {
        return Err(AppError::forbidden());
    }
    if proposal.proposal_status != Some(ProposalStatus::Open) {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::IllegalTransition,
            "not an open proposal",
        )));
    }
    let note = match text::optional("note", note, 2_000) {
        Ok(note) => note,
        Err(error) => return Ok(Err(vec![error])),
    };
    let checked = if accept {
        if let Some(errors) = frozen(plan.status) {
            return Ok(Err(errors));
        }
        let kept: PlanChanges =
            serde_json::from_str(proposal.proposed_changes.as_deref().unwrap_or("{}"))
                .map_err(AppError::internal)?;
        match changes::check(db, actor, &plan, &kept).await? {
            Ok(checked) => Some(checked),
            Err(errors) => return Ok(Err(prefixed(errors))),
        }
    } else {
        None
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let status = if accept {
        ProposalStatus::Accepted
    } else {
        ProposalStatus::Declined
    };
    let moved = comment::Entity::update_many()
        .col_expr(comment::Column::ProposalStatus, Expr::value(status))
        .col_expr(comment::Column::ResolvedById, Expr::value(actor.user_id))
        .col_expr(comment::Column::ResolvedAt, Expr::value(now))
        .col_expr(comment::Column::ResolutionNote, Expr::value(note))
        .filter(comment::Column::Id.eq(proposal.id))
        .filter(comment::Column::ProposalStatus.eq(ProposalStatus::Open))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::StaleVersion,
            "the proposal was resolved meanwhile",
        )));
    }
    if let Some(checked) = &checked {
        if let Err(errors) = apply(&txn, &plan, None, checked, now).await? {
            return Ok(Err(errors));
        }
    }
    let resolved = comment::Entity::find_by_id(proposal.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("comment".into()))?;
    announce(&txn, &plan, &resolved).await?;
    txn.commit().await?;
    Ok(Ok(resolved))
}
