//! Market development funds, from budget to paid claim: budgets allocated to partners,
//! requests and their activities decided, claims submitted and paid. Running totals move
//! only by conditional updates, backed by CHECK constraints.

use chrono::{NaiveDate, Utc};
use entity::{mdf_activity, mdf_allocation, mdf_budget, mdf_claim, mdf_request, partner};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};

use super::service::{amount, write_entry, MDF_PAYMENT};
use crate::auth::Actor;
use crate::db::Db;
use crate::db::{begin_write, settle, Outcome};
use crate::error::{AppError, AppResult};
use crate::events::{self, EventType, NewEvent};
use crate::money::{minor_digits, to_minor, Money, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub const PENDING: &str = "PENDING";
pub const APPROVED: &str = "APPROVED";
pub const DECLINED: &str = "DECLINED";
pub const SUBMITTED: &str = "SUBMITTED";
pub const REJECTED: &str = "REJECTED";
pub const PAID: &str = "PAID";

fn positive_minor(money: &MoneyInput, currency: &str, field: &str) -> Result<i64, Vec<UserError>> {
    if money.currency != currency {
        return Err(UserError::one(
            field,
            UserErrorCode::Invalid,
            format!("use the budget's currency, {currency}"),
        ));
    }
    match to_minor(money) {
        Ok(minor) if minor > 0 => Ok(minor),
        Ok(_) => Err(UserError::one(
            field,
            UserErrorCode::Invalid,
            "must be positive",
        )),
        Err(message) => Err(UserError::one(field, UserErrorCode::Invalid, message)),
    }
}

pub async fn create_budget(
    db: &Db,
    name: &str,
    money: &MoneyInput,
    start: NaiveDate,
    end: NaiveDate,
) -> AppResult<Outcome<mdf_budget::Model>> {
    if name.trim().is_empty() {
        return Ok(Err(UserError::one(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )));
    }
    if end < start {
        return Ok(Err(UserError::one(
            "periodEnd",
            UserErrorCode::Invalid,
            "must not be before periodStart",
        )));
    }
    if minor_digits(&money.currency).is_none() {
        return Ok(Err(UserError::one(
            "amount",
            UserErrorCode::Invalid,
            "unsupported currency",
        )));
    }
    let minor = match positive_minor(money, &money.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    Ok(Ok(mdf_budget::ActiveModel {
        name: Set(name.trim().to_owned()),
        amount_minor: Set(minor),
        allocated_minor: Set(0),
        currency: Set(money.currency.clone()),
        period_start: Set(start),
        period_end: Set(end),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?))
}

/// Allocates part of a budget to a partner: Σ allocations ≤ budget, checked and moved in
/// one conditional update.
pub async fn allocate(
    db: &Db,
    budget_id: i64,
    partner_id: i64,
    money: &MoneyInput,
) -> AppResult<Outcome<mdf_allocation::Model>> {
    let Some(budget) = mdf_budget::Entity::find_by_id(budget_id).one(db).await? else {
        return Ok(Err(UserError::one(
            "budgetId",
            UserErrorCode::NotFound,
            "no such budget",
        )));
    };
    if partner::Entity::find_by_id(partner_id)
        .one(db)
        .await?
        .is_none()
    {
        return Ok(Err(UserError::one(
            "partnerId",
            UserErrorCode::NotFound,
            "no such partner",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_budget::Entity::update_many()
            .col_expr(
                mdf_budget::Column::AllocatedMinor,
                Expr::col(mdf_budget::Column::AllocatedMinor).add(minor),
            )
            .filter(mdf_budget::Column::Id.eq(budget_id))
            .filter(
                Expr::expr(Expr::col(mdf_budget::Column::AllocatedMinor).add(minor))
                    .lte(Expr::col(mdf_budget::Column::AmountMinor)),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            let left = mdf_budget::Entity::find_by_id(budget_id)
                .one(&txn)
                .await?
                .map_or(0, |b| b.amount_minor - b.allocated_minor);
            return Ok(Err(UserError::one(
                "amount",
                UserErrorCode::RuleViolation,
                format!(
                    "exceeds what is left of the budget ({} {})",
                    amount(left, &budget.currency),
                    budget.currency
                ),
            )));
        }
        let allocation = mdf_allocation::ActiveModel {
            budget_id: Set(budget_id),
            partner_id: Set(partner_id),
            amount_minor: Set(minor),
            approved_minor: Set(0),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Ok(Ok(allocation))
    }
    .await;
    settle(txn, result).await
}

pub async fn create_request(
    db: &Db,
    actor: &Actor,
    allocation: &mdf_allocation::Model,
    title: &str,
    activities: &[(String, MoneyInput)],
    currency: &str,
) -> AppResult<Outcome<mdf_request::Model>> {
    let mut errors = Vec::new();
    if title.trim().is_empty() {
        errors.push(UserError::new(
            "title",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if activities.is_empty() {
        errors.push(UserError::new(
            "activities",
            UserErrorCode::Required,
            "list at least one activity",
        ));
    }
    let mut amounts = Vec::new();
    for (i, (description, money)) in activities.iter().enumerate() {
        if description.trim().is_empty() {
            errors.push(UserError::new(
                &format!("activities.{i}.description"),
                UserErrorCode::Required,
                "must not be blank",
            ));
        }
        match positive_minor(money, currency, &format!("activities.{i}.amount")) {
            Ok(minor) => amounts.push(minor),
            Err(mut problem) => errors.append(&mut problem),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let request = mdf_request::ActiveModel {
            allocation_id: Set(allocation.id),
            partner_id: Set(allocation.partner_id),
            title: Set(title.trim().to_owned()),
            created_by_id: Set(Some(actor.user_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for ((description, _), minor) in activities.iter().zip(amounts) {
            mdf_activity::ActiveModel {
                request_id: Set(request.id),
                description: Set(description.trim().to_owned()),
                requested_minor: Set(minor),
                approved_minor: Set(None),
                claimed_minor: Set(0),
                status: Set(PENDING.into()),
                claim_deadline: Set(None),
                required_proof: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        Ok(Ok(request))
    }
    .await;
    settle(txn, result).await
}

pub async fn activity_context(
    db: &impl ConnectionTrait,
    activity_id: i64,
) -> AppResult<
    Option<(
        mdf_activity::Model,
        mdf_request::Model,
        mdf_allocation::Model,
        mdf_budget::Model,
    )>,
> {
    let Some(activity) = mdf_activity::Entity::find_by_id(activity_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let request = mdf_request::Entity::find_by_id(activity.request_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("request missing"))?;
    let allocation = mdf_allocation::Entity::find_by_id(request.allocation_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("allocation missing"))?;
    let budget = mdf_budget::Entity::find_by_id(allocation.budget_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("budget missing"))?;
    Ok(Some((activity, request, allocation, budget)))
}

/// Approves an activity for at most what was requested: Σ approved ≤ allocation, moved
/// in one conditional update.
pub async fn approve_activity(
    db: &Db,
    activity_id: i64,
    money: &MoneyInput,
    claim_deadline: Option<NaiveDate>,
    required_proof: Option<String>,
) -> AppResult<Outcome<mdf_activity::Model>> {
    let Some((activity, _, allocation, budget)) = activity_context(db, activity_id).await? else {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::NotFound,
            "no such activity",
        )));
    };
    if activity.status != PENDING {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only a pending activity can be decided",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "approvedAmount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    if minor > activity.requested_minor {
        return Ok(Err(UserError::one(
            "approvedAmount",
            UserErrorCode::Invalid,
            "cannot exceed the requested amount",
        )));
    }
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_allocation::Entity::update_many()
            .col_expr(
                mdf_allocation::Column::ApprovedMinor,
                Expr::col(mdf_allocation::Column::ApprovedMinor).add(minor),
            )
            .filter(mdf_allocation::Column::Id.eq(allocation.id))
            .filter(
                Expr::expr(Expr::col(mdf_allocation::Column::ApprovedMinor).add(minor))
                    .lte(Expr::col(mdf_allocation::Column::AmountMinor)),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "approvedAmount",
                UserErrorCode::RuleViolation,
                "exceeds what is left of the partner's allocation",
            )));
        }
        let decided = mdf_activity::Entity::update_many()
            .col_expr(mdf_activity::Column::Status, APPROVED.into())
            .col_expr(mdf_activity::Column::ApprovedMinor, Some(minor).into())
            .col_expr(mdf_activity::Column::ClaimDeadline, claim_deadline.into())
            .col_expr(
                mdf_activity::Column::RequiredProof,
                required_proof.clone().into(),
            )
            .filter(mdf_activity::Column::Id.eq(activity_id))
            .filter(mdf_activity::Column::Status.eq(PENDING))
            .exec(&txn)
            .await?;
        if decided.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "activityId",
                UserErrorCode::IllegalTransition,
                "the activity was decided meanwhile",
            )));
        }
        Ok(Ok(mdf_activity::Entity::find_by_id(activity_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("activity vanished"))?))
    }
    .await;
    settle(txn, result).await
}

pub async fn decline_activity(
    db: &Db,
    activity_id: i64,
) -> AppResult<Outcome<mdf_activity::Model>> {
    let moved = mdf_activity::Entity::update_many()
        .col_expr(mdf_activity::Column::Status, DECLINED.into())
        .filter(mdf_activity::Column::Id.eq(activity_id))
        .filter(mdf_activity::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only a pending activity can be declined",
        )));
    }
    Ok(Ok(mdf_activity::Entity::find_by_id(activity_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("activity"))?))
}

/// Claims money for an approved activity: Σ claims ≤ the approved amount, moved in one
/// conditional update.
pub async fn submit_claim(
    db: &Db,
    activity: &mdf_activity::Model,
    budget: &mdf_budget::Model,
    partner_id: i64,
    money: &MoneyInput,
    proof_note: Option<String>,
    proof_file_id: Option<i64>,
) -> AppResult<Outcome<mdf_claim::Model>> {
    if activity.status != APPROVED {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::IllegalTransition,
            "only an approved activity can be claimed",
        )));
    }
    if activity
        .claim_deadline
        .is_some_and(|deadline| Utc::now().date_naive() > deadline)
    {
        return Ok(Err(UserError::one(
            "activityId",
            UserErrorCode::RuleViolation,
            "the claim deadline has passed",
        )));
    }
    if activity.required_proof.is_some() && proof_note.is_none() && proof_file_id.is_none() {
        return Ok(Err(UserError::one(
            "proof",
            UserErrorCode::Required,
            "this activity requires proof",
        )));
    }
    let minor = match positive_minor(money, &budget.currency, "amount") {
        Ok(minor) => minor,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let moved = mdf_activity::Entity::update_many()
            .col_expr(
                mdf_activity::Column::ClaimedMinor,
                Expr::col(mdf_activity::Column::ClaimedMinor).add(minor),
            )
            .filter(mdf_activity::Column::Id.eq(activity.id))
            .filter(
                Condition::all().add(
                    Expr::expr(Expr::col(mdf_activity::Column::ClaimedMinor).add(minor))
                        .lte(Expr::cust("COALESCE(approved_minor, 0)")),
                ),
            )
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "amount",
                UserErrorCode::RuleViolation,
                "exceeds the activity's approved amount",
            )));
        }
        let claim = mdf_claim::ActiveModel {
            activity_id: Set(activity.id),
            partner_id: Set(partner_id),
            amount_minor: Set(minor),
            proof_file_id: Set(proof_file_id),
            proof_note: Set(proof_note.clone()),
            status: Set(SUBMITTED.into()),
            paid_at: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Ok(Ok(claim))
    }
    .await;
    settle(txn, result).await
}

/// Moves a claim `from` → `to`; a rejected claim frees its amount for another claim, a
/// paid one is written to the ledger. Only one caller can make each move.
pub async fn decide_claim(
    db: &Db,
    actor: &Actor,
    claim_id: i64,
    from: &str,
    to: &str,
) -> AppResult<Outcome<mdf_claim::Model>> {
    let txn = begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(claim) = mdf_claim::Entity::find_by_id(claim_id).one(&txn).await? else {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::NotFound,
                "no such claim",
            )));
        };
        let mut update = mdf_claim::Entity::update_many()
            .col_expr(mdf_claim::Column::Status, to.into())
            .filter(mdf_claim::Column::Id.eq(claim_id))
            .filter(mdf_claim::Column::Status.eq(from));
        if to == PAID {
            update = update.col_expr(mdf_claim::Column::PaidAt, Some(Utc::now()).into());
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::IllegalTransition,
                format!("only a {from} claim can become {to}").to_lowercase(),
            )));
        }
        if to == REJECTED {
            mdf_activity::Entity::update_many()
                .col_expr(
                    mdf_activity::Column::ClaimedMinor,
                    Expr::col(mdf_activity::Column::ClaimedMinor).sub(claim.amount_minor),
                )
                .filter(mdf_activity::Column::Id.eq(claim.activity_id))
                .exec(&txn)
                .await?;
        }
        if to == PAID {
            let Some((_, _, _, budget)) = activity_context(&txn, claim.activity_id).await? else {
                return Err(AppError::internal("claim without activity"));
            };
            write_entry(
                &txn,
                claim.partner_id,
                None,
                MDF_PAYMENT,
                claim.amount_minor,
                &budget.currency,
                &format!("MDF claim {claim_id}"),
                Some(actor.user_id),
            )
            .await?;
            let paid = NewEvent {
                ty: EventType::MdfClaimPaid,
                subject_id: claim.id,
                partner_id: Some(claim.partner_id),
                data: serde_json::json!({
                    "amount": Money::from_minor(claim.amount_minor, &budget.currency),
                }),
            };
            events::emit(&txn, paid).await?;
        }
        Ok(Ok(mdf_claim::Entity::find_by_id(claim_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("claim vanished"))?))
    }
    .await;
    settle(txn, result).await
}
