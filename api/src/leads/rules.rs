//! Routing rules' changes, and the facts lead figures are computed from.

use chrono::Utc;
use entity::enums::{DealStatus, LeadExclusionReason, LeadStatus, PartnerType};
use entity::{
    certification_program, deal_registration, lead, lead_exclusion as exclusion,
    lead_history as history, lead_routing_rule as rule, product, tier,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::figures::Turn;
use super::service::Outcome;
use crate::db::Db;
use crate::error::AppResult;
use crate::integrations::text;
use crate::money::Money;
use crate::relay::{UserError, UserErrorCode};

const MAX_VALUES: usize = 100;

/// A rule as sent.
pub struct NewRule {
    pub name: String,
    pub priority: i32,
    pub regions: Vec<String>,
    pub verticals: Vec<String>,
    pub product_ids: Vec<i64>,
    pub partner_ids: Vec<i64>,
    pub partner_types: Vec<PartnerType>,
    pub min_tier_id: Option<i64>,
    pub certification_program_ids: Vec<i64>,
    pub capacity: Option<i32>,
}

fn texts(field: &str, values: &[String], errors: &mut Vec<UserError>) -> Vec<String> {
    if values.len() > MAX_VALUES {
        errors.push(UserError::new(
            field,
            UserErrorCode::Invalid,
            format!("at most {MAX_VALUES} values"),
        ));
        return vec![];
    }
    let mut kept = Vec::new();
    for value in values {
        match text::required(field, value, 100) {
            Ok(v) if !kept.contains(&v) => kept.push(v),
            Ok(_) => {}
            Err(e) => {
                errors.push(e);
                return vec![];
            }
        }
    }
    kept
}

/// Checks that every id of `ids` exists in `E` (ids are distinct and at most 100).
async fn all_exist<E: EntityTrait>(
    db: &impl ConnectionTrait,
    field: &str,
    id: E::Column,
    ids: &[i64],
    errors: &mut Vec<UserError>,
) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_VALUES {
        errors.push(UserError::new(
            field,
            UserErrorCode::Invalid,
            format!("at most {MAX_VALUES} values"),
        ));
        return Ok(ids);
    }
    if ids.is_empty() {
        return Ok(ids);
    }
    let found = E::find()
        .select_only()
        .column(id)
        .filter(id.is_in(ids.clone()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .len();
    if found != ids.len() {
        errors.push(UserError::new(
            field,
            UserErrorCode::NotFound,
            "names something that does not exist",
        ));
    }
    Ok(ids)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

pub async fn create(db: &Db, new: NewRule) -> AppResult<Outcome<rule::Model>> {
    let mut errors = Vec::new();
    let name = text::required("name", &new.name, 200).unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    let regions = texts("regions", &new.regions, &mut errors);
    let verticals = texts("verticals", &new.verticals, &mut errors);
    let products = all_exist::<product::Entity>(
        db,
        "productIds",
        product::Column::Id,
        &new.product_ids,
        &mut errors,
    )
    .await?;
    let partners = all_exist::<entity::partner::Entity>(
        db,
        "partnerIds",
        entity::partner::Column::Id,
        &new.partner_ids,
        &mut errors,
    )
    .await?;
    let programs = all_exist::<certification_program::Entity>(
        db,
        "certificationProgramIds",
        certification_program::Column::Id,
        &new.certification_program_ids,
        &mut errors,
    )
    .await?;
    if let Some(tier_id) = new.min_tier_id {
        all_exist::<tier::Entity>(db, "minTierId", tier::Column::Id, &[tier_id], &mut errors)
            .await?;
    }
    if new.capacity.is_some_and(|c| !(1..=10_000).contains(&c)) {
        errors.push(UserError::new(
            "capacity",
            UserErrorCode::Invalid,
            "must be between 1 and 10,000",
        ));
    }
    if !(-1_000_000..=1_000_000).contains(&new.priority) {
        errors.push(UserError::new(
            "priority",
            UserErrorCode::Invalid,
            "must be between -1,000,000 and 1,000,000",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let types: Vec<String> = new.partner_types.iter().map(|t| t.to_value()).collect();
    let now = Utc::now();
    Ok(Ok(rule::ActiveModel {
        name: Set(name),
        priority: Set(new.priority),
        regions: Set(json(&regions)),
        verticals: Set(json(&verticals)),
        product_ids: Set(json(&products)),
        partner_ids: Set(json(&partners)),
        partner_types: Set(json(&types)),
        min_tier_id: Set(new.min_tier_id),
        certification_program_ids: Set(json(&programs)),
        capacity: Set(new.capacity),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?))
}

pub async fn set_active(db: &Db, id: i64, active: bool) -> AppResult<Option<rule::Model>> {
    let Some(found) = rule::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let mut model: rule::ActiveModel = found.into();
    model.is_active = Set(active);
    model.updated_at = Set(Utc::now());
    Ok(Some(model.update(db).await?))
}

/// The partner's (or every partner's) turns in the leads' histories, its declines and
/// lapses, and the revenue of the won registrations converted from its leads.
pub async fn lead_facts(
    db: &Db,
    partner: Option<i64>,
) -> AppResult<(Vec<Turn>, u64, u64, Vec<Money>)> {
    let mut turns = history::Entity::find()
        .select_only()
        .column(history::Column::LeadId)
        .column(history::Column::ToStatus)
        .column(history::Column::CreatedAt)
        .filter(history::Column::ToStatus.is_in([
            LeadStatus::Assigned,
            LeadStatus::Accepted,
            LeadStatus::Converted,
        ]))
        .order_by_asc(history::Column::Id);
    if let Some(p) = partner {
        turns = turns.filter(history::Column::PartnerId.eq(p));
    }
    let turns: Vec<Turn> = turns.into_tuple().all(db).await?;
    let mut exclusions = exclusion::Entity::find();
    if let Some(p) = partner {
        exclusions = exclusions.filter(exclusion::Column::PartnerId.eq(p));
    }
    let (mut declined, mut lapsed) = (0, 0);
    for e in exclusions.all(db).await? {
        match e.reason {
            LeadExclusionReason::Declined => declined += 1,
            LeadExclusionReason::Lapsed => lapsed += 1,
        }
    }
    let mut converted = lead::Entity::find()
        .select_only()
        .column(lead::Column::RegistrationId)
        .filter(lead::Column::RegistrationId.is_not_null());
    if let Some(p) = partner {
        converted = converted.filter(lead::Column::AssignedPartnerId.eq(p));
    }
    let revenue: Vec<(String, i64)> = deal_registration::Entity::find()
        .select_only()
        .column(deal_registration::Column::Currency)
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(closed_amount_minor), 0) AS BIGINT)"),
            "amount",
        )
        .filter(deal_registration::Column::Status.eq(DealStatus::Won))
        .filter(deal_registration::Column::Id.in_subquery(converted.into_query()))
        .group_by(deal_registration::Column::Currency)
        .order_by_asc(deal_registration::Column::Currency)
        .into_tuple()
        .all(db)
        .await?;
    Ok((
        turns,
        declined,
        lapsed,
        revenue
            .into_iter()
            .map(|(currency, minor)| Money::from_minor(minor, &currency))
            .collect(),
    ))
}
