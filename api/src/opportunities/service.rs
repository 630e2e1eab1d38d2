//! Direct opportunities' changes: each checked, written with its history row and event in
//! one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{InfluenceRole, OpportunityStage as Stage, PartnerStatus, Role};
use entity::{
    account, direct_opportunity as opportunity, direct_opportunity_history as history,
    opportunity_influence as influence, partner, user,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, SqlErr,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{policy, stages};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{emit, EventType, NewEvent};
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};

pub type Outcome<T> = Result<T, Vec<UserError>>;

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

const MAX_NAME: usize = 200;
const MAX_KEY: usize = 200;

/// What a new opportunity is.
#[derive(Debug, Clone)]
pub struct NewOpportunity {
    pub account_id: i64,
    pub name: String,
    pub amount: MoneyInput,
    pub close_date: NaiveDate,
    pub stage: Option<Stage>,
    /// The direct rep who owns it (a rep's own by default).
    pub owner_id: Option<i64>,
}

fn request_hash(new: &NewOpportunity) -> String {
    let canonical = serde_json::to_string(&(
        new.account_id,
        &new.name,
        &new.amount,
        new.close_date,
        new.stage.map(|s| format!("{s:?}")),
        new.owner_id,
    ))
    .unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn amount_of(field: &str, money: &MoneyInput, errors: &mut Vec<UserError>) -> Option<i64> {
    match to_minor(money) {
        Ok(minor) if minor > 0 => Some(minor),
        Ok(_) => {
            errors.push(UserError::new(
                field,
                UserErrorCode::Invalid,
                "must be positive",
            ));
            None
        }
        Err(message) => {
            errors.push(UserError::new(field, UserErrorCode::Invalid, message));
            None
        }
    }
}

fn name_of(name: &str, errors: &mut Vec<UserError>) -> Option<String> {
    match crate::integrations::text::required("name", name, MAX_NAME) {
        Ok(name) => Some(name),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// The owner a new opportunity gets: the rep itself, or the active direct rep a manager names.
async fn owner_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    asked: Option<i64>,
) -> AppResult<Result<i64, UserError>> {
    let wanted = match (actor.role, asked) {
        (Role::DirectRep, None) => return Ok(Ok(actor.user_id)),
        (Role::DirectRep, Some(id)) if id == actor.user_id => return Ok(Ok(id)),
        (Role::DirectRep, Some(_)) => {
            return Ok(Err(UserError::new(
                "ownerId",
                UserErrorCode::RuleViolation,
                "a direct rep creates its own opportunities",
            )))
        }
        (_, None) => {
            return Ok(Err(UserError::new(
                "ownerId",
                UserErrorCode::Required,
                "name the direct rep who owns it",
            )))
        }
        (_, Some(id)) => id,
    };
    let rep = user::Entity::find_by_id(wanted).one(db).await?;
    Ok(match rep {
        Some(u) if u.role == Role::DirectRep && u.is_active => Ok(u.id),
        _ => Err(UserError::new(
            "ownerId",
            UserErrorCode::NotFound,
            "no active direct rep with this id",
        )),
    })
}

async fn existing_by_key(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &str,
) -> AppResult<Option<opportunity::Model>> {
    Ok(opportunity::Entity::find()
        .filter(opportunity::Column::CreatedById.eq(actor.user_id))
        .filter(opportunity::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

fn replayed(found: opportunity::Model, hash: &str) -> Outcome<opportunity::Model> {
    let stored = found.request_hash.clone();
    crate::relay::replayed(found, stored.as_deref(), hash, "opportunity")
}

/// Creates an opportunity. The same idempotency key from the same user returns the first
/// result and creates nothing.
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: NewOpportunity,
    idempotency_key: Option<String>,
) -> AppResult<Outcome<opportunity::Model>> {
    if !policy::can_create(actor) {
        return Err(AppError::forbidden());
    }
    let key = idempotency_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if key
        .as_ref()
        .is_some_and(|k| k.chars().count() > MAX_KEY || k.contains('\0'))
    {
        return Ok(Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "must be at most 200 characters without NUL",
        )));
    }
    let hash = request_hash(&new);
    if let Some(key) = &key {
        if let Some(found) = existing_by_key(db, actor, key).await? {
            return Ok(replayed(found, &hash));
        }
    }
    let mut errors = Vec::new();
    let name = name_of(&new.name, &mut errors);
    let minor = amount_of("amount", &new.amount, &mut errors);
    if new.stage.is_some_and(|s| !stages::is_open(s)) {
        errors.push(UserError::new(
            "stage",
            UserErrorCode::Invalid,
            "a new opportunity starts in an open stage",
        ));
    }
    let account = account::Entity::find_by_id(new.account_id).one(db).await?;
    let account_ok = account.as_ref().is_some_and(|a| {
        actor.role == Role::ChannelManager || a.owner_id.is_none_or(|o| o == actor.user_id)
    });
    if !account_ok {
        errors.push(UserError::new(
            "accountId",
            UserErrorCode::NotFound,
            "no account of yours with this id",
        ));
    }
    let owner = match owner_of(db, actor, new.owner_id).await? {
        Ok(owner) => Some(owner),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let (Some(name), Some(minor), Some(owner), true) = (name, minor, owner, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let now = Utc::now();
    let stage = new.stage.unwrap_or(Stage::Prospecting);
    let txn = crate::db::begin_write(db).await?;
    let inserted = opportunity::ActiveModel {
        name: Set(name),
        account_id: Set(new.account_id),
        owner_id: Set(owner),
        amount_minor: Set(minor),
        currency: Set(new.amount.currency.clone()),
        stage: Set(stage),
        close_date: Set(new.close_date),
        closed_at: Set(None),
        created_by_id: Set(Some(actor.user_id)),
        idempotency_key: Set(key.clone()),
        request_hash: Set(Some(hash.clone())),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let created = match inserted {
        Ok(created) => created,
        Err(err) if is_unique_violation(&err) && key.is_some() => {
            drop(txn);
            return match existing_by_key(db, actor, key.as_deref().unwrap_or_default()).await? {
                Some(found) => Ok(replayed(found, &hash)),
                None => Err(err.into()),
            };
        }
        Err(err) => return Err(err.into()),
    };
    record(&txn, &created, actor, None).await?;
    txn.commit().await?;
    Ok(Ok(created))
}

async fn record(
    db: &impl ConnectionTrait,
    opportunity: &opportunity::Model,
    actor: &Actor,
    from: Option<Stage>,
) -> AppResult<()> {
    history::ActiveModel {
        opportunity_id: Set(opportunity.id),
        actor_id: Set(Some(actor.user_id)),
        from_stage: Set(from),
        to_stage: Set(opportunity.stage),
        created_at: Set(opportunity.updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A change of an opportunity's name, amount, close date or stage.
#[derive(Debug, Default)]
pub struct Change {
    pub version: Option<i32>,
    pub name: Option<String>,
    pub amount: Option<MoneyInput>,
    pub close_date: Option<NaiveDate>,
    pub stage: Option<Stage>,
    /// When a won or lost opportunity closed (now by default; never in the future).
    pub closed_at: Option<DateTime<Utc>>,
}

fn stale() -> Vec<UserError> {
    UserError::one(
        "version",
        UserErrorCode::StaleVersion,
        "the opportunity changed meanwhile; reload and retry",
    )
}

/// Changes an opportunity the caller may change (compare-and-set on its version).
pub async fn change(
    db: &Db,
    actor: &Actor,
    current: opportunity::Model,
    change: Change,
) -> AppResult<Outcome<opportunity::Model>> {
    if !policy::can_change(actor, &current) {
        return Err(AppError::forbidden());
    }
    if change.version.is_some_and(|v| v != current.version) {
        return Ok(Err(stale()));
    }
    let mut errors = Vec::new();
    let mut model: opportunity::ActiveModel = current.clone().into();
    if let Some(name) = &change.name {
        if let Some(name) = name_of(name, &mut errors) {
            model.name = Set(name);
        }
    }
    if let Some(amount) = &change.amount {
        if let Some(minor) = amount_of("amount", amount, &mut errors) {
            model.amount_minor = Set(minor);
            model.currency = Set(amount.currency.clone());
        }
    }
    if let Some(day) = change.close_date {
        model.close_date = Set(day);
    }
    let now = Utc::now();
    if let Some(stage) = change.stage.filter(|s| *s != current.stage) {
        if !stages::allowed(current.stage).contains(&stage) {
            errors.push(UserError::new(
                "stage",
                UserErrorCode::IllegalTransition,
                format!("a {:?} opportunity cannot move to {stage:?}", current.stage),
            ));
        } else if !stages::is_open(stage) {
            let at = change.closed_at.unwrap_or(now);
            if at > now {
                errors.push(UserError::new(
                    "closedAt",
                    UserErrorCode::Invalid,
                    "cannot be in the future",
                ));
            }
            model.closed_at = Set(Some(at));
        }
        model.stage = Set(stage);
    } else if change.closed_at.is_some() {
        errors.push(UserError::new(
            "closedAt",
            UserErrorCode::Invalid,
            "is set only when the opportunity is won or lost",
        ));
    }
    if !stages::is_open(current.stage) && (change.amount.is_some() || change.close_date.is_some()) {
        errors.push(UserError::new(
            "id",
            UserErrorCode::RuleViolation,
            "a closed opportunity keeps its amount and dates",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    model.version = Set(current.version + 1);
    model.updated_at = Set(now);
    let txn = crate::db::begin_write(db).await?;
    let moved = opportunity::Entity::update_many()
        .set(model)
        .filter(opportunity::Column::Id.eq(current.id))
        .filter(opportunity::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Err(stale()));
    }
    let updated = opportunity::Entity::find_by_id(current.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("an updated opportunity vanished"))?;
    if updated.stage != current.stage {
        record(&txn, &updated, actor, Some(current.stage)).await?;
        if updated.stage == Stage::Won {
            emit(
                &txn,
                NewEvent {
                    ty: EventType::OpportunityWon,
                    subject_id: updated.id,
                    partner_id: None,
                    data: json!({
                        "id": crate::relay::global_id(super::NODE_KIND, updated.id).to_string(),
                        "amount": crate::money::Money::from_minor(updated.amount_minor, &updated.currency),
                    }),
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(Ok(updated))
}

/// Records a partner's part in an opportunity (once per partner).
pub async fn add_influence(
    db: &Db,
    actor: &Actor,
    opportunity: &opportunity::Model,
    partner_id: i64,
    role: InfluenceRole,
) -> AppResult<Outcome<influence::Model>> {
    if !policy::can_change(actor, opportunity) {
        return Err(AppError::forbidden());
    }
    let found = partner::Entity::find_by_id(partner_id).one(db).await?;
    if !found.is_some_and(|p| !matches!(p.status, PartnerStatus::Prospect)) {
        return Ok(Err(UserError::one(
            "partnerId",
            UserErrorCode::NotFound,
            "no signed partner with this id",
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let inserted = influence::ActiveModel {
        opportunity_id: Set(opportunity.id),
        partner_id: Set(partner_id),
        role: Set(role),
        added_by_id: Set(Some(actor.user_id)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let added = match inserted {
        Ok(added) => added,
        Err(err) if is_unique_violation(&err) => {
            return Ok(Err(UserError::one(
                "partnerId",
                UserErrorCode::Taken,
                "this partner's influence is already recorded",
            )))
        }
        Err(err) => return Err(err.into()),
    };
    emit(
        &txn,
        NewEvent {
            ty: EventType::OpportunityInfluenceAdded,
            subject_id: opportunity.id,
            partner_id: Some(partner_id),
            data: json!({
                "id": crate::relay::global_id(super::NODE_KIND, opportunity.id).to_string(),
                "partnerId": crate::relay::global_id(crate::partners::NODE_KIND, partner_id).to_string(),
                "role": role.to_value(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(added))
}

/// Removes a partner's influence record; true when there was one.
pub async fn remove_influence(
    db: &Db,
    actor: &Actor,
    opportunity: &opportunity::Model,
    partner_id: i64,
) -> AppResult<bool> {
    if !policy::can_change(actor, opportunity) {
        return Err(AppError::forbidden());
    }
    let removed = influence::Entity::delete_many()
        .filter(influence::Column::OpportunityId.eq(opportunity.id))
        .filter(influence::Column::PartnerId.eq(partner_id))
        .exec(db)
        .await?;
    Ok(removed.rows_affected > 0)
}

/// An opportunity the caller sees, for `node(id:)` and mutations.
pub async fn find_visible(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<opportunity::Model>> {
    Ok(policy::visible_select(db, actor)
        .await?
        .filter(opportunity::Column::Id.eq(id))
        .one(db)
        .await?)
}
