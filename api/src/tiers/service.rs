use chrono::Utc;
use entity::{certification, partner, partner_tier_history, tier, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::rules::{Metrics, PROTECTION_CHOICES};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub struct TierFields {
    pub name: Option<String>,
    pub rank: Option<i32>,
    pub description: Option<Option<String>>,
    pub protection_days: Option<i32>,
    pub rebate_eligible: Option<bool>,
    pub mdf_eligible: Option<bool>,
    pub min_won_revenue: Option<MoneyInput>,
    pub min_approved_registrations: Option<i32>,
    pub min_won_deals: Option<i32>,
    pub min_active_certifications: Option<i32>,
    pub criteria_period_months: Option<i32>,
}

pub async fn all_tiers(db: &impl ConnectionTrait) -> AppResult<Vec<tier::Model>> {
    Ok(tier::Entity::find()
        .order_by_asc(tier::Column::Rank)
        .all(db)
        .await?)
}

async fn validate(
    db: &impl ConnectionTrait,
    id: Option<i64>,
    fields: &TierFields,
) -> AppResult<(Vec<UserError>, Option<(i64, String)>)> {
    let mut errors = Vec::new();
    if let Some(name) = &fields.name {
        if name.trim().is_empty() {
            errors.push(UserError::new(
                "name",
                UserErrorCode::Required,
                "must not be blank",
            ));
        } else if let Some(other) = tier::Entity::find()
            .filter(tier::Column::Name.eq(name.trim()))
            .one(db)
            .await?
        {
            if Some(other.id) != id {
                errors.push(UserError::new(
                    "name",
                    UserErrorCode::Taken,
                    "another tier has this name",
                ));
            }
        }
    }
    if let Some(rank) = fields.rank {
        if rank < 1 {
            errors.push(UserError::new(
                "rank",
                UserErrorCode::Invalid,
                "ranks start at 1 (the lowest tier)",
            ));
        } else if let Some(other) = tier::Entity::find()
            .filter(tier::Column::Rank.eq(rank))
            .one(db)
            .await?
        {
            if Some(other.id) != id {
                errors.push(UserError::new(
                    "rank",
                    UserErrorCode::Taken,
                    format!("tier {:?} already has rank {rank}", other.name),
                ));
            }
        }
    }
    if let Some(days) = fields.protection_days {
        if !PROTECTION_CHOICES.contains(&days) {
            errors.push(UserError::new(
                "protectionDays",
                UserErrorCode::Invalid,
                "choose 0 (none), 30, 60, 90 or 120",
            ));
        }
    }
    let mut revenue = None;
    if let Some(money) = &fields.min_won_revenue {
        match to_minor(money) {
            Ok(minor) if minor >= 0 => revenue = Some((minor, money.currency.clone())),
            Ok(_) => errors.push(UserError::new(
                "criteria.minWonRevenue",
                UserErrorCode::Invalid,
                "must not be negative",
            )),
            Err(message) => errors.push(UserError::new(
                "criteria.minWonRevenue",
                UserErrorCode::Invalid,
                message,
            )),
        }
    }
    for (field, value) in [
        (
            "criteria.minApprovedRegistrations",
            fields.min_approved_registrations,
        ),
        ("criteria.minWonDeals", fields.min_won_deals),
        (
            "criteria.minActiveCertifications",
            fields.min_active_certifications,
        ),
    ] {
        if value.is_some_and(|v| v < 0) {
            errors.push(UserError::new(
                field,
                UserErrorCode::Invalid,
                "must not be negative",
            ));
        }
    }
    if fields
        .criteria_period_months
        .is_some_and(|m| !(1..=36).contains(&m))
    {
        errors.push(UserError::new(
            "criteria.periodMonths",
            UserErrorCode::Invalid,
            "must be between 1 and 36",
        ));
    }
    Ok((errors, revenue))
}

pub async fn create(db: &Db, fields: TierFields) -> AppResult<Result<tier::Model, Vec<UserError>>> {
    let (mut errors, revenue) = validate(db, None, &fields).await?;
    if fields.name.is_none() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if fields.rank.is_none() {
        errors.push(UserError::new(
            "rank",
            UserErrorCode::Required,
            "is required",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let now = Utc::now();
    let (minor, currency) = revenue.unwrap_or((0, crate::money::DEFAULT_CURRENCY.to_owned()));
    let created = tier::ActiveModel {
        name: Set(fields.name.unwrap_or_default().trim().to_owned()),
        rank: Set(fields.rank.unwrap_or(1)),
        description: Set(fields.description.flatten()),
        protection_days: Set(Some(
            fields
                .protection_days
                .unwrap_or(super::rules::DEFAULT_PROTECTION_DAYS),
        )),
        rebate_eligible: Set(fields.rebate_eligible.unwrap_or(false)),
        mdf_eligible: Set(fields.mdf_eligible.unwrap_or(false)),
        min_won_revenue_minor: Set(minor),
        currency: Set(currency),
        min_approved_registrations: Set(fields.min_approved_registrations.unwrap_or(0)),
        min_won_deals: Set(fields.min_won_deals.unwrap_or(0)),
        min_active_certifications: Set(fields.min_active_certifications.unwrap_or(0)),
        criteria_period_months: Set(fields.criteria_period_months.unwrap_or(12)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(AppError::from)?;
    Ok(Ok(created))
}

pub async fn update(
    db: &Db,
    id: i64,
    version: i32,
    fields: TierFields,
) -> AppResult<Result<tier::Model, Vec<UserError>>> {
    let Some(current) = tier::Entity::find_by_id(id).one(db).await? else {
        return Ok(Err(UserError::one(
            "id",
            UserErrorCode::NotFound,
            "no such tier",
        )));
    };
    if current.version != version {
        return Ok(Err(UserError::one(
            "version",
            UserErrorCode::StaleVersion,
            "the tier changed since you read it",
        )));
    }
    let (errors, revenue) = validate(db, Some(id), &fields).await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut model: tier::ActiveModel = current.into();
    if let Some(name) = fields.name {
        model.name = Set(name.trim().to_owned());
    }
    if let Some(rank) = fields.rank {
        model.rank = Set(rank);
    }
    if let Some(description) = fields.description {
        model.description = Set(description);
    }
    if let Some(days) = fields.protection_days {
        model.protection_days = Set(Some(days));
    }
    if let Some(flag) = fields.rebate_eligible {
        model.rebate_eligible = Set(flag);
    }
    if let Some(flag) = fields.mdf_eligible {
        model.mdf_eligible = Set(flag);
    }
    if let Some((minor, currency)) = revenue {
        model.min_won_revenue_minor = Set(minor);
        model.currency = Set(currency);
    }
    if let Some(n) = fields.min_approved_registrations {
        model.min_approved_registrations = Set(n);
    }
    if let Some(n) = fields.min_won_deals {
        model.min_won_deals = Set(n);
    }
    if let Some(n) = fields.min_active_certifications {
        model.min_active_certifications = Set(n);
    }
    if let Some(n) = fields.criteria_period_months {
        model.criteria_period_months = Set(n);
    }
    model.version = Set(version + 1);
    model.updated_at = Set(Utc::now());
    // The version check above and this write race only with another manager editing the
    // same tier; the filter makes the loser's write touch nothing.
    let result = tier::Entity::update_many()
        .set(model)
        .filter(tier::Column::Id.eq(id))
        .filter(tier::Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(Err(UserError::one(
            "version",
            UserErrorCode::StaleVersion,
            "the tier changed since you read it",
        )));
    }
    tier::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("tier"))
        .map(Ok)
}

pub async fn record_tier_change(
    db: &impl ConnectionTrait,
    partner_id: i64,
    from: Option<i64>,
    to: Option<i64>,
    actor_id: Option<i64>,
    reason: Option<String>,
) -> AppResult<()> {
    partner_tier_history::ActiveModel {
        partner_id: Set(partner_id),
        from_tier_id: Set(from),
        to_tier_id: Set(to),
        actor_id: Set(actor_id),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A channel manager's decision to move a partner to `tier_id` (promotion or demotion).
pub async fn change_partner_tier(
    db: &Db,
    actor: &Actor,
    partner_id: i64,
    tier_id: i64,
    reason: Option<String>,
) -> AppResult<Result<partner::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(current) = partner::Entity::find_by_id(partner_id).one(&txn).await? else {
            return Ok(Err(UserError::one(
                "partnerId",
                UserErrorCode::NotFound,
                "no such partner",
            )));
        };
        if tier::Entity::find_by_id(tier_id).one(&txn).await?.is_none() {
            return Ok(Err(UserError::one(
                "tierId",
                UserErrorCode::NotFound,
                "no such tier",
            )));
        }
        if current.tier_id == Some(tier_id) {
            return Ok(Err(UserError::one(
                "tierId",
                UserErrorCode::RuleViolation,
                "the partner is already in this tier",
            )));
        }
        partner::Entity::update_many()
            .col_expr(partner::Column::TierId, Some(tier_id).into())
            .col_expr(partner::Column::UpdatedAt, Utc::now().into())
            .col_expr(partner::Column::Version, (current.version + 1).into())
            .filter(partner::Column::Id.eq(partner_id))
            .exec(&txn)
            .await?;
        record_tier_change(
            &txn,
            partner_id,
            current.tier_id,
            Some(tier_id),
            Some(actor.user_id),
            reason.clone(),
        )
        .await?;
        let tier_ids = |id: Option<i64>| {
            id.map(|id| crate::relay::global_id(super::types::NODE_KIND, id).to_string())
        };
        let changed = crate::events::NewEvent {
            ty: crate::events::EventType::PartnerTierChanged,
            subject_id: partner_id,
            partner_id: Some(partner_id),
            data: serde_json::json!({
                "tierId": tier_ids(Some(tier_id)),
                "previousTierId": tier_ids(current.tier_id),
                "reason": reason,
            }),
        };
        crate::events::emit(&txn, changed).await?;
        let updated = partner::Entity::find_by_id(partner_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("partner vanished inside its tier change"))?;
        Ok(Ok(updated))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// A partner's achievements over the trailing `months`: won revenue (in `currency`), deals
/// approved and won, and the certifications its people hold now.
pub async fn metrics(
    db: &impl ConnectionTrait,
    partner_id: i64,
    months: i32,
    currency: &str,
) -> AppResult<Metrics> {
    use entity::deal_registration as deal;
    use entity::enums::DealStatus;
    let now = Utc::now();
    let since = now
        .checked_sub_months(chrono::Months::new(months.max(1) as u32))
        .unwrap_or(now);
    let users = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::PartnerId.eq(partner_id))
        .into_query();
    let active_certifications = certification::Entity::find()
        .filter(certification::Column::UserId.in_subquery(users))
        .filter(certification::Column::AwardedAt.is_not_null())
        .filter(certification::Column::ExpiresAt.gt(now))
        .count(db)
        .await? as i64;
    let won = || {
        deal::Entity::find()
            .filter(deal::Column::PartnerId.eq(partner_id))
            .filter(crate::deals::status_is(DealStatus::Won))
            .filter(deal::Column::ClosedAt.gte(since))
    };
    let won_revenue_minor = crate::db::sum_minor(
        db,
        won().filter(deal::Column::Currency.eq(currency)),
        deal::Column::ClosedAmountMinor,
    )
    .await?;
    let won_deals = won().count(db).await? as i64;
    let approved_registrations = deal::Entity::find()
        .filter(deal::Column::PartnerId.eq(partner_id))
        .filter(deal::Column::ApprovedAt.gte(since))
        .count(db)
        .await? as i64;
    Ok(Metrics {
        won_revenue_minor,
        approved_registrations,
        won_deals,
        active_certifications,
    })
}

/// Resolves a tier for `node(id:)`: tiers are public to every signed-in user.
pub async fn find(db: &Db, id: i64) -> AppResult<Option<tier::Model>> {
    Ok(tier::Entity::find_by_id(id).one(db).await?)
}
