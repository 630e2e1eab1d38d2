//! Quarterly reviews of an active plan: attainment per objective and revenue per quarter as
//! they stood when the review was recorded (a snapshot that later wins do not change), the
//! vendor's notes, the partner's notes, and the next quarter's adjusted revenue targets.

use chrono::Utc;
use entity::enums::PlanStatus;
use entity::{
    joint_business_plan as plan, joint_business_plan_objective as objective,
    joint_business_plan_review as review, joint_business_plan_target as target,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::actuals::{by_quarter, is_quarter, next_quarter, QuarterFigures};
use super::scorecard::{results, ObjectiveResult};
use super::service::{bump, stale, Outcome};
use super::{policy, progress, service};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::integrations::text;
use crate::metrics::formulas::quarter_label;
use crate::money::{to_minor, MoneyInput};
use crate::relay::{global_id, UserError, UserErrorCode};

pub const NODE_KIND: &str = "JointBusinessPlanReview";

/// The plan's scorecard at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub weighted_attainment: Option<f64>,
    pub objectives: Vec<ObjectiveResult>,
    pub quarters: Vec<QuarterFigures>,
}

/// A next-quarter target the review changed (minor units; none: no target).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetChange {
    pub quarter: String,
    pub currency: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub struct NewReview {
    pub quarter: String,
    pub vendor_notes: Option<String>,
    pub adjustments: Option<String>,
    /// Replace the next quarter's target in each currency named (zero removes it).
    pub next_quarter_targets: Vec<MoneyInput>,
}

/// The plan's scorecard now, computed as its `actuals` are.
pub async fn snapshot(db: &impl ConnectionTrait, plan: &plan::Model) -> AppResult<Snapshot> {
    let plans = std::slice::from_ref(plan);
    let (sourced, influenced) = service::actuals(db, plans)
        .await?
        .remove(&plan.id)
        .unwrap_or_default();
    let progress = progress::of(db, plans)
        .await?
        .remove(&plan.id)
        .unwrap_or_default();
    let figures = progress::figures(&sourced, &influenced, &progress, Utc::now().date_naive());
    let mut objectives = objective::Entity::find()
        .filter(objective::Column::PlanId.eq(plan.id))
        .all(db)
        .await?;
    objectives.sort_by_key(|o| o.position);
    let targets: Vec<(String, String, i64)> = target::Entity::find()
        .filter(target::Column::PlanId.eq(plan.id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.quarter, t.currency, t.amount_minor))
        .collect();
    let revenue: Vec<(String, String, i64)> = sourced.into_iter().chain(influenced).collect();
    let (objectives, weighted_attainment) = results(&objectives, &figures);
    Ok(Snapshot {
        weighted_attainment,
        objectives,
        quarters: by_quarter(&targets, &revenue),
    })
}

/// The quarter reviewed, or why it cannot be: a quarter of the plan's period that has begun.
fn checked_quarter(plan: &plan::Model, quarter: &str) -> Result<String, UserError> {
    let quarter = quarter.trim().to_uppercase();
    let (first, last) = (
        quarter_label(plan.period_start),
        quarter_label(plan.period_end),
    );
    let now = quarter_label(Utc::now().date_naive());
    if !is_quarter(&quarter) || quarter < first || quarter > last || quarter > now {
        return Err(UserError::new(
            "quarter",
            UserErrorCode::Invalid,
            format!("must be a quarter of the plan's period ({first} to {last}) that has begun"),
        ));
    }
    Ok(quarter)
}

/// The next quarter and its new targets as (currency, minor units).
type Adjusted = (String, Vec<(String, i64)>);

/// The next quarter's new targets, or their problems.
fn checked_adjustments(
    plan: &plan::Model,
    quarter: &str,
    targets: &[MoneyInput],
) -> Result<Option<Adjusted>, Vec<UserError>> {
    if targets.is_empty() {
        return Ok(None);
    }
    let next = next_quarter(quarter).filter(|q| *q <= quarter_label(plan.period_end));
    let Some(next) = next else {
        return Err(UserError::one(
            "nextQuarterTargets",
            UserErrorCode::Invalid,
            "the plan's period ends with this quarter",
        ));
    };
    let mut rows: Vec<(String, i64)> = Vec::new();
    let mut errors = Vec::new();
    for (i, amount) in targets.iter().enumerate() {
        let field = format!("nextQuarterTargets.{i}");
        match to_minor(amount) {
            Ok(minor) if minor < 0 => errors.push(UserError::new(
                &field,
                UserErrorCode::Invalid,
                "must not be negative",
            )),
            Ok(_) if rows.iter().any(|(c, _)| *c == amount.currency) => errors.push(
                UserError::new(&field, UserErrorCode::Taken, "one target per currency"),
            ),
            Ok(minor) => rows.push((amount.currency.clone(), minor)),
            Err(message) => errors.push(UserError::new(&field, UserErrorCode::Invalid, message)),
        }
    }
    if errors.is_empty() {
        Ok(Some((next, rows)))
    } else {
        Err(errors)
    }
}

/// Sets the next quarter's targets, returning what changed.
async fn adjust(
    db: &impl ConnectionTrait,
    plan_id: i64,
    quarter: &str,
    rows: &[(String, i64)],
) -> AppResult<Vec<TargetChange>> {
    let before = target::Entity::find()
        .filter(target::Column::PlanId.eq(plan_id))
        .filter(target::Column::Quarter.eq(quarter))
        .all(db)
        .await?;
    let mut changes = Vec::new();
    for (currency, minor) in rows {
        let from = before
            .iter()
            .find(|t| t.currency == *currency)
            .map(|t| t.amount_minor);
        let to = (*minor > 0).then_some(*minor);
        if from == to {
            continue;
        }
        target::Entity::delete_many()
            .filter(target::Column::PlanId.eq(plan_id))
            .filter(target::Column::Quarter.eq(quarter))
            .filter(target::Column::Currency.eq(currency.as_str()))
            .exec(db)
            .await?;
        if let Some(amount) = to {
            target::ActiveModel {
                plan_id: Set(plan_id),
                quarter: Set(quarter.to_owned()),
                currency: Set(currency.clone()),
                amount_minor: Set(amount),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        changes.push(TargetChange {
            quarter: quarter.to_owned(),
            currency: currency.clone(),
            from,
            to,
        });
    }
    Ok(changes)
}

async fn announce(
    db: &impl ConnectionTrait,
    plan: &plan::Model,
    review: &review::Model,
) -> AppResult<()> {
    emit(
        db,
        NewEvent {
            ty: EventType::PlanReviewed,
            subject_id: plan.id,
            partner_id: Some(plan.partner_id),
            data: json!({
                "id": global_id(super::NODE_KIND, plan.id).to_string(),
                "review": global_id(NODE_KIND, review.id).to_string(),
                "quarter": review.quarter,
            }),
        },
    )
    .await?;
    Ok(())
}

/// Records a quarter's review of an active plan (channel managers), once per quarter.
pub async fn record(
    db: &Db,
    actor: &Actor,
    plan: plan::Model,
    new: NewReview,
) -> AppResult<Outcome<review::Model>> {
    if !policy::can_write(actor) {
        return Err(AppError::forbidden());
    }
    if plan.status != PlanStatus::Active {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::IllegalTransition,
            "only an active plan is reviewed",
        )));
    }
    let mut errors = Vec::new();
    let quarter = checked_quarter(&plan, &new.quarter)
        .map_err(|e| errors.push(e))
        .ok();
    let vendor_notes = text::optional("vendorNotes", new.vendor_notes.as_deref(), 10_000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let adjustments = text::optional("adjustments", new.adjustments.as_deref(), 10_000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let next = match &quarter {
        Some(q) => checked_adjustments(&plan, q, &new.next_quarter_targets)
            .map_err(|more| errors.extend(more))
            .ok()
            .flatten(),
        None => None,
    };
    let Some(quarter) = quarter.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let taken = review::Entity::find()
        .filter(review::Column::PlanId.eq(plan.id))
        .filter(review::Column::Quarter.eq(quarter.as_str()))
        .one(db)
        .await?;
    if taken.is_some() {
        return Ok(Err(UserError::one(
            "quarter",
            UserErrorCode::Taken,
            "this quarter was reviewed already",
        )));
    }
    let snapshot = snapshot(db, &plan).await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    if !bump(&txn, &plan, plan.status, now).await? {
        return Ok(Err(stale()));
    }
    let changes = match &next {
        Some((next, rows)) => adjust(&txn, plan.id, next, rows).await?,
        None => vec![],
    };
    let created = review::ActiveModel {
        plan_id: Set(plan.id),
        quarter: Set(quarter),
        snapshot: Set(serde_json::to_string(&snapshot).map_err(AppError::internal)?),
        vendor_notes: Set(vendor_notes),
        adjustments: Set(adjustments),
        target_changes: Set(serde_json::to_string(&changes).map_err(AppError::internal)?),
        recorded_by_id: Set(actor.user_id),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    announce(&txn, &plan, &created).await?;
    txn.commit().await?;
    Ok(Ok(created))
}

/// The review `id` names, with its plan, if the caller sees the plan.
pub async fn find_visible(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<(review::Model, plan::Model)>> {
    let Some(found) = review::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let plan = super::find_visible(db, actor, found.plan_id).await?;
    Ok(plan.map(|plan| (found, plan)))
}

/// The partner's org admin adds the partner's notes to a review, once.
pub async fn add_partner_notes(
    db: &Db,
    actor: &Actor,
    found: review::Model,
    plan: plan::Model,
    notes: &str,
) -> AppResult<Outcome<review::Model>> {
    if !policy::may_note_review(actor, &plan) {
        return Err(AppError::forbidden());
    }
    let notes = match text::required("notes", notes, 10_000) {
        Ok(notes) => notes,
        Err(error) => return Ok(Err(vec![error])),
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let written = review::Entity::update_many()
        .col_expr(review::Column::PartnerNotes, Expr::value(notes))
        .col_expr(review::Column::PartnerNotedById, Expr::value(actor.user_id))
        .col_expr(review::Column::PartnerNotedAt, Expr::value(now))
        .filter(review::Column::Id.eq(found.id))
        .filter(review::Column::PartnerNotes.is_null())
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::Taken,
            "the partner's notes on this review are written already",
        )));
    }
    let updated = review::Entity::find_by_id(found.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("review".into()))?;
    announce(&txn, &plan, &updated).await?;
    txn.commit().await?;
    Ok(Ok(updated))
}
