//! Plans' changes, each checked and written with its history row (and the state changes'
//! events) in one transaction, and the actuals read from what the partner won.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::enums::{DealStatus, OpportunityStage, PlanStatus};
use entity::{
    deal_registration as deal, direct_opportunity as opportunity, joint_business_plan as plan,
    joint_business_plan_history as history, joint_business_plan_target as target,
    opportunity_influence as influence,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};
use serde_json::json;

use super::policy;
use super::stages::{self, Move};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::metrics::formulas::{influence_credited, quarter_label};
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub type Outcome<T> = Result<T, Vec<UserError>>;

/// The longest plan: three years.
const MAX_DAYS: i64 = 3 * 366;
const MAX_TARGETS: usize = 100;

/// A quarter's revenue target as sent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TargetInput {
    pub quarter: String,
    pub amount: MoneyInput,
}

pub struct NewPlan {
    pub partner_id: i64,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub targets: Vec<TargetInput>,
}

/// The targets as rows (quarter, currency, minor units), or every problem with them.
pub(super) fn checked_targets(
    targets: &[TargetInput],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(String, String, i64)>, Vec<UserError>> {
    if targets.len() > MAX_TARGETS {
        return Err(UserError::one(
            "targets",
            UserErrorCode::Invalid,
            format!("at most {MAX_TARGETS}"),
        ));
    }
    let first = quarter_label(start);
    let last = quarter_label(end);
    let mut rows: Vec<(String, String, i64)> = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let field = format!("targets.{i}");
        let quarter = t.quarter.trim().to_uppercase();
        if !super::actuals::is_quarter(&quarter) || quarter < first || quarter > last {
            errors.push(UserError::new(
                &format!("{field}.quarter"),
                UserErrorCode::Invalid,
                format!("must be a quarter of the plan's period, {first} to {last}"),
            ));
            continue;
        }
        match to_minor(&t.amount) {
            Ok(minor) if minor > 0 => {
                let currency = t.amount.currency.clone();
                if rows.iter().any(|r| r.0 == quarter && r.1 == currency) {
                    errors.push(UserError::new(
                        &format!("{field}.quarter"),
                        UserErrorCode::Taken,
                        "one target per quarter and currency",
                    ));
                } else {
                    rows.push((quarter, currency, minor));
                }
            }
            Ok(_) => errors.push(UserError::new(
                &format!("{field}.amount"),
                UserErrorCode::Invalid,
                "must be positive",
            )),
            Err(message) => errors.push(UserError::new(
                &format!("{field}.amount"),
                UserErrorCode::Invalid,
                message,
            )),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

pub(super) async fn write_targets(
    db: &impl ConnectionTrait,
    plan_id: i64,
    rows: &[(String, String, i64)],
) -> AppResult<()> {
    target::Entity::delete_many()
        .filter(target::Column::PlanId.eq(plan_id))
        .exec(db)
        .await?;
    if !rows.is_empty() {
        target::Entity::insert_many(rows.iter().map(|(quarter, currency, minor)| {
            target::ActiveModel {
                plan_id: Set(plan_id),
                quarter: Set(quarter.clone()),
                currency: Set(currency.clone()),
                amount_minor: Set(*minor),
                ..Default::default()
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

async fn record(
    db: &impl ConnectionTrait,
    plan_id: i64,
    from: Option<PlanStatus>,
    to: PlanStatus,
    actor_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    history::ActiveModel {
        plan_id: Set(plan_id),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(Some(actor_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Creates a `DRAFT` plan for a partner (channel managers).
pub async fn create(db: &Db, actor: &Actor, new: NewPlan) -> AppResult<Outcome<plan::Model>> {
    if !policy::can_write(actor) {
        return Err(AppError::forbidden());
    }
    let mut errors = Vec::new();
    let name = crate::integrations::text::required("name", &new.name, 200).unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    if new.period_end < new.period_start
        || (new.period_end - new.period_start).num_days() > MAX_DAYS
    {
        errors.push(UserError::new(
            "periodEnd",
            UserErrorCode::Invalid,
            "must be on or after periodStart, at most three years later",
        ));
    }
    let partner = entity::partner::Entity::find_by_id(new.partner_id)
        .one(db)
        .await?;
    if partner.is_none() {
        errors.push(UserError::new(
            "partnerId",
            UserErrorCode::NotFound,
            "no such partner",
        ));
    }
    let rows = if errors.is_empty() {
        match checked_targets(&new.targets, new.period_start, new.period_end) {
            Ok(rows) => rows,
            Err(more) => {
                errors.extend(more);
                vec![]
            }
        }
    } else {
        vec![]
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let created = plan::ActiveModel {
        partner_id: Set(new.partner_id),
        name: Set(name),
        period_start: Set(new.period_start),
        period_end: Set(new.period_end),
        status: Set(PlanStatus::Draft),
        version: Set(1),
        created_by_id: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_targets(&txn, created.id, &rows).await?;
    record(
        &txn,
        created.id,
        None,
        PlanStatus::Draft,
        actor.user_id,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(created))
}

pub(super) fn stale() -> Vec<UserError> {
    UserError::one(
        "id",
        UserErrorCode::StaleVersion,
        "the plan changed meanwhile; read it again",
    )
}

/// Replaces a draft or shared plan's targets (channel managers).
pub async fn set_targets(
    db: &Db,
    actor: &Actor,
    current: plan::Model,
    targets: &[TargetInput],
) -> AppResult<Outcome<plan::Model>> {
    let changes = super::changes::PlanChanges {
        targets: Some(targets.to_vec()),
        ..Default::default()
    };
    update(db, actor, current, None, &changes).await
}

/// Sets the plan's status (and version) by a compare-and-set on the version read.
pub(super) async fn bump(
    db: &impl ConnectionTrait,
    current: &plan::Model,
    to: PlanStatus,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let moved = plan::Entity::update_many()
        .col_expr(plan::Column::Status, Expr::value(to))
        .col_expr(plan::Column::Version, Expr::value(current.version + 1))
        .col_expr(plan::Column::UpdatedAt, Expr::value(now))
        .filter(plan::Column::Id.eq(current.id))
        .filter(plan::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Shares, accepts, completes or cancels the plan.
pub async fn advance(
    db: &Db,
    actor: &Actor,
    current: plan::Model,
    action: Move,
) -> AppResult<Outcome<plan::Model>> {
    let Some(to) =
        stages::target(action, current.status).filter(|_| policy::may(actor, &current, action))
    else {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::IllegalTransition,
            format!(
                "you cannot {} a plan in {}",
                format!("{action:?}").to_lowercase(),
                sea_orm::ActiveEnum::to_value(&current.status)
            ),
        )));
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    if !bump(&txn, &current, to, now).await? {
        return Ok(Err(stale()));
    }
    if action == Move::Accept {
        plan::Entity::update_many()
            .col_expr(plan::Column::AcceptedById, Expr::value(actor.user_id))
            .col_expr(plan::Column::AcceptedAt, Expr::value(now))
            .filter(plan::Column::Id.eq(current.id))
            .exec(&txn)
            .await?;
    }
    record(
        &txn,
        current.id,
        Some(current.status),
        to,
        actor.user_id,
        now,
    )
    .await?;
    emit(
        &txn,
        NewEvent {
            ty: EventType::PlanStatusChanged,
            subject_id: current.id,
            // A draft is the vendor's own: its partner hears of it once shared.
            partner_id: (to != PlanStatus::Cancelled || current.status != PlanStatus::Draft)
                .then_some(current.partner_id),
            data: json!({
                "id": crate::relay::global_id(super::NODE_KIND, current.id).to_string(),
                "from": sea_orm::ActiveEnum::to_value(&current.status),
                "to": sea_orm::ActiveEnum::to_value(&to),
            }),
        },
    )
    .await?;
    let updated = plan::Entity::find_by_id(current.id).one(&txn).await?;
    txn.commit().await?;
    updated
        .ok_or_else(|| AppError::NotFound("plan".into()))
        .map(Ok)
}

/// A plan's actual revenue rows: (quarter, currency, minor units).
pub type Rows = Vec<(String, String, i64)>;

pub(super) fn window(plan: &plan::Model) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    (
        midnight(plan.period_start),
        midnight(plan.period_end + Duration::days(1)),
    )
}

/// The revenue each plan's partner won in the plan's period: sourced (its won
/// registrations) and influenced (won direct opportunities it influenced, credited as
/// `channelMetrics` credits them). Reads all the plans' rows at once (a list of plans
/// shows its actuals without a read per plan).
pub async fn actuals(
    db: &impl ConnectionTrait,
    plans: &[plan::Model],
) -> AppResult<HashMap<i64, (Rows, Rows)>> {
    if plans.is_empty() {
        return Ok(HashMap::new());
    }
    let partners: Vec<i64> = plans.iter().map(|p| p.partner_id).collect();
    let from = plans.iter().map(|p| window(p).0).min().expect("plans");
    let to = plans.iter().map(|p| window(p).1).max().expect("plans");
    type Won = (i64, String, Option<DateTime<Utc>>, Option<i64>);
    let won: Vec<Won> = deal::Entity::find()
        .select_only()
        .column(deal::Column::PartnerId)
        .column(deal::Column::Currency)
        .column(deal::Column::ClosedAt)
        .column(deal::Column::ClosedAmountMinor)
        .filter(deal::Column::PartnerId.is_in(partners.clone()))
        .filter(crate::deals::status_is(DealStatus::Won))
        .filter(deal::Column::ClosedAt.gte(from))
        .filter(deal::Column::ClosedAt.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    let influenced_ids = influence::Entity::find()
        .select_only()
        .column(influence::Column::OpportunityId)
        .filter(influence::Column::PartnerId.is_in(partners))
        .into_query();
    type Won2 = (i64, String, i64, Option<DateTime<Utc>>);
    let opportunities: Vec<Won2> = opportunity::Entity::find()
        .select_only()
        .column(opportunity::Column::Id)
        .column(opportunity::Column::Currency)
        .column(opportunity::Column::AmountMinor)
        .column(opportunity::Column::ClosedAt)
        .filter(opportunity::Column::Stage.eq(OpportunityStage::Won))
        .filter(opportunity::Column::ClosedAt.gte(from))
        .filter(opportunity::Column::ClosedAt.lt(to))
        .filter(opportunity::Column::Id.in_subquery(influenced_ids))
        .into_tuple()
        .all(db)
        .await?;
    let credit = crate::metrics::report::influence_credit(db).await?;
    let ids: Vec<i64> = opportunities.iter().map(|o| o.0).collect();
    let mut influencers: HashMap<i64, Vec<i64>> = HashMap::new();
    for (opportunity, partner) in crate::metrics::facts::influences_of(db, &ids).await? {
        influencers.entry(opportunity).or_default().push(partner);
    }
    let in_window = |plan: &plan::Model, at: Option<DateTime<Utc>>| {
        let (from, to) = window(plan);
        at.filter(|at| *at >= from && *at < to)
            .map(|at| quarter_label(at.date_naive()))
    };
    Ok(plans
        .iter()
        .map(|plan| {
            let sourced = won
                .iter()
                .filter(|w| w.0 == plan.partner_id)
                .filter_map(|(_, currency, at, amount)| {
                    Some((in_window(plan, *at)?, currency.clone(), amount.unwrap_or(0)))
                })
                .collect();
            let influenced = opportunities
                .iter()
                .filter_map(|(id, currency, amount, at)| {
                    let partners = influencers.get(id)?;
                    if !partners.contains(&plan.partner_id) {
                        return None;
                    }
                    let credited =
                        influence_credited(credit, *amount, partners, |p| p == plan.partner_id);
                    Some((in_window(plan, *at)?, currency.clone(), credited))
                })
                .collect();
            (plan.id, (sourced, influenced))
        })
        .collect())
}

/// Applies checked changes to a draft or shared plan: a compare-and-set on its version
/// (`expected`, when the caller names one), the lists replaced, and an event.
pub async fn apply(
    db: &impl ConnectionTrait,
    current: &plan::Model,
    expected: Option<i32>,
    checked: &super::changes::PlanChanges,
    now: DateTime<Utc>,
) -> AppResult<Outcome<()>> {
    if expected.is_some_and(|v| v != current.version)
        || !bump(db, current, current.status, now).await?
    {
        return Ok(Err(stale()));
    }
    super::changes::write(db, current.id, checked).await?;
    emit(
        db,
        NewEvent {
            ty: EventType::PlanUpdated,
            subject_id: current.id,
            partner_id: (current.status != PlanStatus::Draft).then_some(current.partner_id),
            data: json!({
                "id": crate::relay::global_id(super::NODE_KIND, current.id).to_string(),
                "version": current.version + 1,
            }),
        },
    )
    .await?;
    Ok(Ok(()))
}

/// Why a plan in `status` cannot change now, if it cannot.
pub(super) fn frozen(status: PlanStatus) -> Option<Vec<UserError>> {
    (!stages::is_editable(status)).then(|| {
        UserError::one(
            "id",
            UserErrorCode::IllegalTransition,
            "an active, completed or cancelled plan stays as agreed (a quarterly review adjusts the next quarter's targets)",
        )
    })
}

/// Changes a draft or shared plan (channel managers).
pub async fn update(
    db: &Db,
    actor: &Actor,
    current: plan::Model,
    expected: Option<i32>,
    changes: &super::changes::PlanChanges,
) -> AppResult<Outcome<plan::Model>> {
    if !policy::can_write(actor) {
        return Err(AppError::forbidden());
    }
    if let Some(errors) = frozen(current.status) {
        return Ok(Err(errors));
    }
    let checked = match super::changes::check(db, actor, &current, changes).await? {
        Ok(checked) => checked,
        Err(errors) => return Ok(Err(errors)),
    };
    let txn = crate::db::begin_write(db).await?;
    if let Err(errors) = apply(&txn, &current, expected, &checked, Utc::now()).await? {
        return Ok(Err(errors));
    }
    let updated = plan::Entity::find_by_id(current.id).one(&txn).await?;
    txn.commit().await?;
    updated
        .ok_or_else(|| AppError::NotFound("plan".into()))
        .map(Ok)
}
