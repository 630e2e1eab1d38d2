use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::enums::{PartnerStatus, PartnerType, ProspectStatus};
use entity::{fit_criterion, prospect, prospect_rating};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::rules::{fit_score, hundredths, is_valid_key, Rated, Score, MAX_RATING, MAX_WEIGHT};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::partners::rules::{normalize_country, normalize_domain};
use crate::partners::service::PartnerFields;
use crate::relay::{UserError, UserErrorCode};

pub struct CriterionInput {
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    pub weight: i32,
}

#[derive(Default)]
pub struct ProspectFields {
    pub name: Option<String>,
    pub website: Option<String>,
    pub partner_type: Option<PartnerType>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
    /// (criterion key, rating 0-10)
    pub ratings: Vec<(String, i32)>,
}

pub async fn criteria(db: &impl ConnectionTrait) -> AppResult<Vec<fit_criterion::Model>> {
    Ok(fit_criterion::Entity::find()
        .order_by_asc(fit_criterion::Column::Position)
        .order_by_asc(fit_criterion::Column::Id)
        .all(db)
        .await?)
}

/// The score of one prospect given the profile and its ratings.
pub fn score_of(criteria: &[fit_criterion::Model], ratings: &[prospect_rating::Model]) -> Score {
    let by_criterion: HashMap<i64, i32> =
        ratings.iter().map(|r| (r.criterion_id, r.value)).collect();
    let rated: Vec<Rated> = criteria
        .iter()
        .map(|c| Rated {
            weight: c.weight,
            value: by_criterion.get(&c.id).copied(),
        })
        .collect();
    fit_score(&rated)
}

async fn store_score(
    db: &impl ConnectionTrait,
    criteria: &[fit_criterion::Model],
    prospect_id: i64,
) -> AppResult<()> {
    let ratings = prospect_rating::Entity::find()
        .filter(prospect_rating::Column::ProspectId.eq(prospect_id))
        .all(db)
        .await?;
    let score = score_of(criteria, &ratings);
    prospect::Entity::update_many()
        .col_expr(
            prospect::Column::FitScoreHundredths,
            hundredths(score.total).into(),
        )
        .filter(prospect::Column::Id.eq(prospect_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the ideal partner profile and re-scores every prospect against it.
pub async fn set_criteria(
    db: &Db,
    input: Vec<CriterionInput>,
) -> AppResult<Result<Vec<fit_criterion::Model>, Vec<UserError>>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, c) in input.iter().enumerate() {
        if !is_valid_key(&c.key) {
            errors.push(UserError::new(
                &format!("criteria.{i}.key"),
                UserErrorCode::Invalid,
                "use lower snake case, e.g. vertical_fit",
            ));
        } else if !seen.insert(c.key.clone()) {
            errors.push(UserError::new(
                &format!("criteria.{i}.key"),
                UserErrorCode::Taken,
                "appears twice",
            ));
        }
        if c.label.trim().is_empty() {
            errors.push(UserError::new(
                &format!("criteria.{i}.label"),
                UserErrorCode::Required,
                "must not be blank",
            ));
        }
        if !(0..=MAX_WEIGHT).contains(&c.weight) {
            errors.push(UserError::new(
                &format!("criteria.{i}.weight"),
                UserErrorCode::Invalid,
                format!("must be between 0 and {MAX_WEIGHT}"),
            ));
        }
    }
    if !input.iter().any(|c| c.weight > 0) {
        errors.push(UserError::new(
            "criteria",
            UserErrorCode::Invalid,
            "at least one criterion needs a positive weight",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let keys: Vec<String> = input.iter().map(|c| c.key.clone()).collect();
        fit_criterion::Entity::delete_many()
            .filter(fit_criterion::Column::Key.is_not_in(keys))
            .exec(&txn)
            .await?;
        for (position, c) in input.into_iter().enumerate() {
            fit_criterion::Entity::insert(fit_criterion::ActiveModel {
                key: Set(c.key),
                label: Set(c.label.trim().to_owned()),
                description: Set(c.description),
                weight: Set(c.weight),
                position: Set(position as i32 + 1),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::column(fit_criterion::Column::Key)
                    .update_columns([
                        fit_criterion::Column::Label,
                        fit_criterion::Column::Description,
                        fit_criterion::Column::Weight,
                        fit_criterion::Column::Position,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        }
        let profile = criteria(&txn).await?;
        for p in prospect::Entity::find().all(&txn).await? {
            store_score(&txn, &profile, p.id).await?;
        }
        Ok(Ok(profile))
    }
    .await;
    crate::db::settle(txn, result).await
}

fn validate_fields(
    fields: &ProspectFields,
    creating: bool,
    profile: &[fit_criterion::Model],
) -> Vec<UserError> {
    let mut errors = Vec::new();
    match &fields.name {
        Some(name) if name.trim().is_empty() => errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )),
        None if creating => errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        )),
        _ => {}
    }
    if let Some(website) = fields.website.as_deref().filter(|w| !w.trim().is_empty()) {
        if normalize_domain(website).is_none() {
            errors.push(UserError::new(
                "website",
                UserErrorCode::Invalid,
                format!("{website:?} is not a website address"),
            ));
        }
    }
    if let Some(country) = fields.country.as_deref().filter(|c| !c.trim().is_empty()) {
        if normalize_country(country).is_none() {
            errors.push(UserError::new(
                "country",
                UserErrorCode::Invalid,
                "use an ISO 3166-1 alpha-2 code such as US",
            ));
        }
    }
    for (i, (key, value)) in fields.ratings.iter().enumerate() {
        if !profile.iter().any(|c| &c.key == key) {
            errors.push(UserError::new(
                &format!("ratings.{i}.criterionKey"),
                UserErrorCode::NotFound,
                format!("the profile has no criterion {key:?}"),
            ));
        }
        if !(0..=MAX_RATING).contains(value) {
            errors.push(UserError::new(
                &format!("ratings.{i}.value"),
                UserErrorCode::Invalid,
                format!("rate from 0 to {MAX_RATING}"),
            ));
        }
    }
    errors
}

async fn upsert_ratings(
    db: &impl ConnectionTrait,
    profile: &[fit_criterion::Model],
    prospect_id: i64,
    ratings: &[(String, i32)],
) -> AppResult<()> {
    for (key, value) in ratings {
        let Some(criterion) = profile.iter().find(|c| &c.key == key) else {
            continue;
        };
        prospect_rating::Entity::insert(prospect_rating::ActiveModel {
            prospect_id: Set(prospect_id),
            criterion_id: Set(criterion.id),
            value: Set(*value),
        })
        .on_conflict(
            OnConflict::columns([
                prospect_rating::Column::ProspectId,
                prospect_rating::Column::CriterionId,
            ])
            .update_column(prospect_rating::Column::Value)
            .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Applies `ratings`, re-scores the prospect and returns it as stored.
async fn rate_and_reload(
    db: &impl ConnectionTrait,
    profile: &[fit_criterion::Model],
    id: i64,
    ratings: &[(String, i32)],
) -> AppResult<prospect::Model> {
    upsert_ratings(db, profile, id, ratings).await?;
    store_score(db, profile, id).await?;
    prospect::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("prospect vanished"))
}

fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn create(
    db: &Db,
    fields: ProspectFields,
) -> AppResult<Result<prospect::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let profile = criteria(&txn).await?;
        let errors = validate_fields(&fields, true, &profile);
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let now = Utc::now();
        let created = prospect::ActiveModel {
            name: Set(fields.name.unwrap_or_default().trim().to_owned()),
            website: Set(clean(fields.website)),
            partner_type: Set(fields.partner_type.unwrap_or(PartnerType::Reseller)),
            country: Set(fields.country.as_deref().and_then(normalize_country)),
            region: Set(clean(fields.region).map(|r| r.to_uppercase())),
            notes: Set(clean(fields.notes)),
            status: Set(ProspectStatus::Open),
            fit_score_hundredths: Set(0),
            converted_partner_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Ok(Ok(rate_and_reload(
            &txn,
            &profile,
            created.id,
            &fields.ratings,
        )
        .await?))
    }
    .await;
    crate::db::settle(txn, result).await
}

fn not_found() -> Vec<UserError> {
    UserError::one("id", UserErrorCode::NotFound, "no such prospect")
}

pub async fn update(
    db: &Db,
    id: i64,
    fields: ProspectFields,
) -> AppResult<Result<prospect::Model, Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(current) = prospect::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Err(not_found()));
        };
        let profile = criteria(&txn).await?;
        let errors = validate_fields(&fields, false, &profile);
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut model: prospect::ActiveModel = current.into();
        if let Some(name) = fields.name {
            model.name = Set(name.trim().to_owned());
        }
        if fields.website.is_some() {
            model.website = Set(clean(fields.website));
        }
        if let Some(partner_type) = fields.partner_type {
            model.partner_type = Set(partner_type);
        }
        if fields.country.is_some() {
            model.country = Set(fields.country.as_deref().and_then(normalize_country));
        }
        if fields.region.is_some() {
            model.region = Set(clean(fields.region).map(|r| r.to_uppercase()));
        }
        if fields.notes.is_some() {
            model.notes = Set(clean(fields.notes));
        }
        model.updated_at = Set(Utc::now());
        model.update(&txn).await?;
        Ok(Ok(
            rate_and_reload(&txn, &profile, id, &fields.ratings).await?
        ))
    }
    .await;
    crate::db::settle(txn, result).await
}

/// Moves an `OPEN` prospect to `to`; `None` if it was not open (someone else got there first).
async fn close(
    db: &impl ConnectionTrait,
    id: i64,
    to: ProspectStatus,
    partner_id: Option<i64>,
) -> AppResult<bool> {
    let result = prospect::Entity::update_many()
        .col_expr(prospect::Column::Status, to.into())
        .col_expr(prospect::Column::ConvertedPartnerId, partner_id.into())
        .col_expr(prospect::Column::UpdatedAt, Utc::now().into())
        .filter(prospect::Column::Id.eq(id))
        .filter(prospect::Column::Status.eq(ProspectStatus::Open))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

fn not_open() -> Vec<UserError> {
    UserError::one(
        "id",
        UserErrorCode::IllegalTransition,
        "only an OPEN prospect can be converted or declined",
    )
}

/// Turns an open prospect into a partner in `ONBOARDING`, in one transaction.
pub async fn convert(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Result<(prospect::Model, entity::partner::Model), Vec<UserError>>> {
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let Some(found) = prospect::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Err(not_found()));
        };
        if found.status != ProspectStatus::Open {
            return Ok(Err(not_open()));
        }
        let fields = PartnerFields {
            name: Some(found.name.clone()),
            partner_type: Some(found.partner_type),
            website: Some(found.website.clone()),
            country: Some(found.country.clone()),
            region: Some(found.region.clone()),
            ..Default::default()
        };
        let partner = match crate::partners::service::create(
            &txn,
            actor,
            fields,
            Some(PartnerStatus::Onboarding),
            None,
        )
        .await?
        {
            Ok(partner) => partner,
            Err(errors) => return Ok(Err(errors)),
        };
        if !close(&txn, id, ProspectStatus::Converted, Some(partner.id)).await? {
            return Ok(Err(not_open()));
        }
        let stored = prospect::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("prospect vanished"))?;
        Ok(Ok((stored, partner)))
    }
    .await;
    crate::db::settle(txn, result).await
}

pub async fn decline(
    db: &Db,
    id: i64,
    reason: Option<String>,
) -> AppResult<Result<prospect::Model, Vec<UserError>>> {
    let Some(found) = prospect::Entity::find_by_id(id).one(db).await? else {
        return Ok(Err(not_found()));
    };
    if !close(db, id, ProspectStatus::Declined, None).await? {
        return Ok(Err(not_open()));
    }
    if let Some(reason) = clean(reason) {
        let notes = match found.notes {
            Some(notes) => format!("{notes}\nDeclined: {reason}"),
            None => format!("Declined: {reason}"),
        };
        prospect::Entity::update_many()
            .col_expr(prospect::Column::Notes, Some(notes).into())
            .filter(prospect::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    prospect::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("prospect vanished"))
        .map(Ok)
}
