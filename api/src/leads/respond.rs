//! What happens to a routed lead: the partner accepts, declines (it goes to the next
//! eligible partner) or converts it into a deal registration; a manager assigns or closes
//! it; a job routes on the leads whose time to accept lapsed. Each change is a
//! compare-and-set on the lead's version, with its history row and event in one
//! transaction, so two replicas or two clicks never do it twice.

use chrono::{DateTime, Utc};
use entity::enums::{LeadExclusionReason, LeadStatus, PartnerStatus};
use entity::{deal_registration, lead, lead_exclusion as exclusion, partner};
use sea_orm::sea_query::{Expr, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::policy;
use super::routing::{self, Decision};
use super::service::{self, Outcome};
use super::stages::{self, Action};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::integrations::text;
use crate::money::MoneyInput;
use crate::relay::{UserError, UserErrorCode};

/// Leads a lapse run handles at most (the next run takes the rest).
const LAPSE_BATCH: u64 = 200;

fn illegal(action: &str, lead: &lead::Model) -> Vec<UserError> {
    UserError::one(
        "id",
        UserErrorCode::IllegalTransition,
        format!(
            "a lead in {} cannot be {action}",
            sea_orm::ActiveEnum::to_value(&lead.status)
        ),
    )
}

fn stale() -> Vec<UserError> {
    UserError::one(
        "id",
        UserErrorCode::StaleVersion,
        "the lead changed meanwhile; read it again",
    )
}

/// Whether `actor` may do `action` to the lead now (its policy and its workflow).
fn allowed(actor: &Actor, lead: &lead::Model, action: Action) -> bool {
    policy::actions(actor, lead).contains(&action)
        && !stages::targets(action, lead.status).is_empty()
}

/// Moves the lead to `to` (setting `extra` too) by a compare-and-set on the version read,
/// and appends the history row with who (`turn.0`) and why (`turn.1`); `false` when the
/// lead changed meanwhile.
async fn advance(
    txn: &impl ConnectionTrait,
    current: &lead::Model,
    to: LeadStatus,
    extra: Vec<(lead::Column, SimpleExpr)>,
    turn: (Option<i64>, &str),
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut update = lead::Entity::update_many()
        .col_expr(lead::Column::Status, Expr::value(to))
        .col_expr(lead::Column::Version, Expr::value(current.version + 1))
        .col_expr(lead::Column::UpdatedAt, Expr::value(now));
    for (column, value) in extra {
        update = update.col_expr(column, value);
    }
    let moved = update
        .filter(lead::Column::Id.eq(current.id))
        .filter(lead::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(false);
    }
    service::record(
        txn,
        current.id,
        Some(current.status),
        to,
        current.assigned_partner_id,
        turn.0,
        turn.1,
        now,
    )
    .await?;
    Ok(true)
}

/// The reason an action that needs one was given (trimmed), if the caller may do it now.
fn with_reason(
    actor: &Actor,
    lead: &lead::Model,
    action: Action,
    reason: &str,
) -> Result<String, Vec<UserError>> {
    let reason = text::required("reason", reason, 500).map_err(|e| vec![e])?;
    if !allowed(actor, lead, action) {
        let verb = match action {
            Action::Close => "closed",
            _ => "declined by you",
        };
        return Err(illegal(verb, lead));
    }
    Ok(reason)
}

fn event_data(lead: &lead::Model, extra: serde_json::Value) -> serde_json::Value {
    let mut data = json!({
        "id": crate::relay::global_id(super::NODE_KIND, lead.id).to_string(),
    });
    if let (Some(map), Some(more)) = (data.as_object_mut(), extra.as_object()) {
        map.extend(more.clone());
    }
    data
}

/// The assigned partner accepts: its contact details show from now on.
pub async fn accept(
    db: &Db,
    actor: &Actor,
    current: lead::Model,
) -> AppResult<Outcome<lead::Model>> {
    if !allowed(actor, &current, Action::Accept) {
        return Ok(Err(illegal("accepted by you", &current)));
    }
    let now = Utc::now();
    if current.accept_by.is_some_and(|by| by <= now) {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::RuleViolation,
            "its time to accept ran out; it goes to another partner",
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let extra = vec![(lead::Column::AcceptedAt, Expr::value(now))];
    let turn = (Some(actor.user_id), "accepted");
    if !advance(&txn, &current, LeadStatus::Accepted, extra, turn, now).await? {
        return Ok(Err(stale()));
    }
    emit(
        &txn,
        NewEvent {
            ty: EventType::LeadAccepted,
            subject_id: current.id,
            partner_id: current.assigned_partner_id,
            data: event_data(&current, json!({})),
        },
    )
    .await?;
    let accepted = lead::Entity::find_by_id(current.id).one(&txn).await?;
    txn.commit().await?;
    accepted
        .ok_or_else(|| AppError::NotFound("lead".into()))
        .map(Ok)
}

/// Excludes the lead's partner (it declined or let the lead lapse) and routes the lead on,
/// in `txn`, with `ctx` read before the transaction (a program's partners are thousands of
/// rows: not read while holding SQLite's writer turn) and kept counting. `None` when the
/// lead changed meanwhile.
async fn route_on(
    txn: &impl ConnectionTrait,
    ctx: &mut service::Context,
    current: &lead::Model,
    reason: LeadExclusionReason,
    note: Option<String>,
    actor_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Option<lead::Model>> {
    let Some(partner_id) = current.assigned_partner_id else {
        return Ok(None);
    };
    exclusion::Entity::insert(exclusion::ActiveModel {
        lead_id: Set(current.id),
        partner_id: Set(partner_id),
        reason: Set(reason),
        note: Set(note),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([exclusion::Column::LeadId, exclusion::Column::PartnerId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let excluded = service::excluded(txn, current.id).await?;
    let products = service::product_ids_of(txn, current.id).await?;
    let decision = routing::route(
        &service::facts_of(current, products),
        &ctx.rules,
        &ctx.candidates,
        &excluded,
    );
    let why = match reason {
        LeadExclusionReason::Declined => "the partner declined; ".to_owned(),
        LeadExclusionReason::Lapsed => format!(
            "the partner did not accept within {} hours; ",
            ctx.settings.accept_within_hours
        ),
    };
    let placed =
        service::place(txn, current, &decision, actor_id, &why, &ctx.settings, now).await?;
    if placed.is_some() {
        emit(
            txn,
            NewEvent {
                ty: match reason {
                    LeadExclusionReason::Declined => EventType::LeadDeclined,
                    LeadExclusionReason::Lapsed => EventType::LeadLapsed,
                },
                subject_id: current.id,
                partner_id: Some(partner_id),
                data: event_data(
                    current,
                    json!({
                        "partnerId": crate::relay::global_id(crate::partners::NODE_KIND, partner_id).to_string(),
                    }),
                ),
            },
        )
        .await?;
    }
    Ok(placed)
}

/// The assigned partner declines, with a reason; the lead goes to the next eligible
/// partner, never back to this one.
pub async fn decline(
    db: &Db,
    actor: &Actor,
    current: lead::Model,
    reason: &str,
) -> AppResult<Outcome<lead::Model>> {
    let reason = match with_reason(actor, &current, Action::Decline, reason) {
        Ok(reason) => reason,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = Utc::now();
    let mut ctx = service::context(db).await?;
    let txn = crate::db::begin_write(db).await?;
    match route_on(
        &txn,
        &mut ctx,
        &current,
        LeadExclusionReason::Declined,
        Some(reason),
        Some(actor.user_id),
        now,
    )
    .await?
    {
        Some(placed) => {
            txn.commit().await?;
            Ok(Ok(placed))
        }
        None => Ok(Err(stale())),
    }
}

/// Routes on every lead whose time to accept ran out before `now`; how many moved. Each
/// is a compare-and-set, so replicas running this at once move each lead once.
pub async fn lapse_due(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let due = lead::Entity::find()
        .filter(lead::Column::Status.eq(LeadStatus::Assigned))
        .filter(lead::Column::AcceptBy.lt(now))
        .order_by_asc(lead::Column::Id)
        .limit(LAPSE_BATCH)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut ctx = service::context(db).await?;
    let mut moved = 0;
    for current in due {
        let txn = crate::db::begin_write(db).await?;
        if route_on(
            &txn,
            &mut ctx,
            &current,
            LeadExclusionReason::Lapsed,
            None,
            None,
            now,
        )
        .await?
        .is_some()
        {
            txn.commit().await?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Runs `lapse_due` every `period` until the process ends (every replica; see there).
pub fn spawn_lapse_job(db: Db, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        loop {
            ticker.tick().await;
            match lapse_due(&db, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(leads = n, "leads routed on after their time to accept"),
                Err(err) => tracing::warn!(error = %err, "lead lapse run failed"),
            }
        }
    });
}

/// A manager sends the lead to a partner of its choice (an active one that has not
/// declined it or let it lapse).
pub async fn assign(
    db: &Db,
    actor: &Actor,
    current: lead::Model,
    partner_id: i64,
) -> AppResult<Outcome<lead::Model>> {
    if !allowed(actor, &current, Action::Assign) {
        return Ok(Err(illegal("assigned", &current)));
    }
    let target = partner::Entity::find_by_id(partner_id).one(db).await?;
    if !target.is_some_and(|p| p.status == PartnerStatus::Active) {
        return Ok(Err(UserError::one(
            "partnerId",
            UserErrorCode::NotFound,
            "no active partner with this id",
        )));
    }
    if service::excluded(db, current.id)
        .await?
        .contains(&partner_id)
    {
        return Ok(Err(UserError::one(
            "partnerId",
            UserErrorCode::RuleViolation,
            "this partner declined the lead or let it lapse; it is never offered it again",
        )));
    }
    let now = Utc::now();
    let settings = service::settings(db).await?;
    let decision = Decision {
        partner_id: Some(partner_id),
        rule_id: None,
        reason: "a channel manager chose the partner".into(),
    };
    let txn = crate::db::begin_write(db).await?;
    match service::place(
        &txn,
        &current,
        &decision,
        Some(actor.user_id),
        "",
        &settings,
        now,
    )
    .await?
    {
        Some(placed) => {
            txn.commit().await?;
            Ok(Ok(placed))
        }
        None => Ok(Err(stale())),
    }
}

/// A manager closes a lead that is not converted (disqualified, duplicate, gone cold).
pub async fn close(
    db: &Db,
    actor: &Actor,
    current: lead::Model,
    reason: &str,
) -> AppResult<Outcome<lead::Model>> {
    let reason = match with_reason(actor, &current, Action::Close, reason) {
        Ok(reason) => reason,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let extra = vec![(lead::Column::AcceptBy, Expr::value(None::<DateTime<Utc>>))];
    let why = format!("closed: {reason}");
    let turn = (Some(actor.user_id), why.as_str());
    if !advance(&txn, &current, LeadStatus::Closed, extra, turn, now).await? {
        return Ok(Err(stale()));
    }
    let closed = lead::Entity::find_by_id(current.id).one(&txn).await?;
    txn.commit().await?;
    closed
        .ok_or_else(|| AppError::NotFound("lead".into()))
        .map(Ok)
}

/// What a conversion adds to the lead's own fields.
pub struct Conversion {
    pub product_ids: Vec<i64>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<chrono::NaiveDate>,
    pub description: Option<String>,
}

/// The accepting partner converts the lead into a submitted deal registration of its own,
/// through the registration path (checks, conflict check, review). The registration's
/// idempotency key is the lead's, so a retry after a failure returns the same one.
pub async fn convert(
    db: &Db,
    actor: &Actor,
    current: lead::Model,
    conversion: Conversion,
) -> AppResult<Outcome<(lead::Model, deal_registration::Model)>> {
    if !allowed(actor, &current, Action::Convert) {
        return Ok(Err(illegal("converted by you", &current)));
    }
    let products = if conversion.product_ids.is_empty() {
        service::product_ids_of(db, current.id).await?
    } else {
        conversion.product_ids
    };
    let input = crate::deals::service::RegistrationInput {
        customer_name: current.company_name.clone(),
        customer_domain: current.company_domain.clone(),
        customer_country: current.country.clone(),
        product_ids: products,
        estimated_value: conversion
            .estimated_value
            .as_ref()
            .map(|m| (m.amount.to_string(), m.currency.clone())),
        expected_close_date: conversion.expected_close_date,
        deal_type: None,
        description: conversion.description,
        external_id: None,
    };
    let key = format!("partnergraph-lead-{}", current.id);
    let registration = match crate::deals::service::register(
        db,
        actor,
        input,
        conversion.estimated_value,
        Some(key),
        true,
    )
    .await?
    {
        Ok(registration) => registration,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let extra = vec![
        (lead::Column::ConvertedAt, Expr::value(now)),
        (lead::Column::RegistrationId, Expr::value(registration.id)),
    ];
    let turn = (Some(actor.user_id), "converted into a deal registration");
    if !advance(&txn, &current, LeadStatus::Converted, extra, turn, now).await? {
        return Ok(Err(stale()));
    }
    emit(
        &txn,
        NewEvent {
            ty: EventType::LeadConverted,
            subject_id: current.id,
            partner_id: current.assigned_partner_id,
            data: event_data(
                &current,
                json!({
                    "dealRegistrationId": crate::relay::global_id(crate::deals::NODE_KIND, registration.id).to_string(),
                }),
            ),
        },
    )
    .await?;
    let converted = lead::Entity::find_by_id(current.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("lead".into()))?;
    txn.commit().await?;
    Ok(Ok((converted, registration)))
}
