//! The workflow's moves (`submitDealRegistration`, `approveDealRegistration`, `reject…`,
//! `return…`, `markDealWon`/`Lost`, `withdraw…`, `cancel…`): each checked against the rules
//! in `workflow`, exclusivity claimed and released in the database, and the expiry job for
//! lapsed protection.

use chrono::{DateTime, Duration, Utc};
use entity::enums::DealStatus;
use entity::{deal_exclusivity, deal_registration, partner, tier};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::candidates::{conflicts, ConflictKind, Probe};
use super::lanes;
use super::register::is_unique_violation;
use super::service::{products_of, record, reload};
use super::workflow::{self, Action, Side, EDITABLE, MAX_RESUBMISSIONS};
use super::{conflict_scores, keys};
use crate::auth::Actor;
use crate::db::{settle, Db, Outcome};
use crate::error::AppResult;
use crate::money::{to_minor, MoneyInput};
use crate::relay::{UserError, UserErrorCode};
use crate::tiers::rules::{DEFAULT_PROTECTION_DAYS, PROTECTION_CHOICES};

/// What an action needs beyond the registration itself.
#[derive(Default)]
pub struct ActionInput {
    pub reason: Option<String>,
    pub protection_days: Option<i32>,
    pub editable_fields: Vec<String>,
    pub closed_amount: Option<MoneyInput>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn illegal(from: DealStatus, action: Action) -> Vec<UserError> {
    UserError::one(
        "id",
        UserErrorCode::IllegalTransition,
        format!(
            "cannot {action:?} a registration that is {}",
            sea_orm::ActiveEnum::to_value(&from)
        )
        .to_lowercase(),
    )
}

async fn protection_days(
    db: &impl ConnectionTrait,
    partner_id: i64,
    requested: Option<i32>,
) -> AppResult<i32> {
    if let Some(days) = requested {
        return Ok(days);
    }
    let Some(found) = partner::Entity::find_by_id(partner_id).one(db).await? else {
        return Ok(DEFAULT_PROTECTION_DAYS);
    };
    let tier_days = match found.tier_id {
        Some(id) => tier::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|t| t.protection_days),
        None => None,
    };
    Ok(tier_days.unwrap_or(DEFAULT_PROTECTION_DAYS))
}

/// Claims the customer and products for `registration` in the exclusivity table. A
/// concurrent approval of the same pair fails here, in the database.
async fn claim(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
) -> AppResult<Result<(), Vec<UserError>>> {
    for product_id in products_of(db, registration.id).await? {
        let inserted = deal_exclusivity::ActiveModel {
            customer_key: Set(registration.customer_key.clone()),
            product_id: Set(product_id),
            registration_id: Set(registration.id),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {
                return Ok(Err(UserError::one(
                    "id",
                    UserErrorCode::RuleViolation,
                    "another registration already holds this customer and product",
                )));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(Ok(()))
}

async fn release(db: &impl ConnectionTrait, registration_id: i64) -> AppResult<()> {
    deal_exclusivity::Entity::delete_many()
        .filter(deal_exclusivity::Column::RegistrationId.eq(registration_id))
        .exec(db)
        .await?;
    Ok(())
}

fn returned_fields(requested: &[String]) -> Result<Vec<String>, Vec<UserError>> {
    if requested.is_empty() {
        return Err(UserError::one(
            "editableFields",
            UserErrorCode::Required,
            "list the fields the partner should fix",
        ));
    }
    let unknown: Vec<&String> = requested
        .iter()
        .filter(|f| !EDITABLE.contains(&f.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(UserError::one(
            "editableFields",
            UserErrorCode::Invalid,
            format!("unknown fields {unknown:?}; choose from {EDITABLE:?}"),
        ));
    }
    Ok(requested.to_vec())
}

/// Moves a registration the caller can see through `action`.
pub async fn act(
    db: &Db,
    actor: &Actor,
    side: Side,
    registration: deal_registration::Model,
    action: Action,
    input: ActionInput,
) -> AppResult<Outcome<deal_registration::Model>> {
    let from = registration.status;
    let Some(to) = workflow::transition(from, action, side) else {
        return Ok(Err(illegal(from, action)));
    };
    let moves_lanes = lanes::moves_lanes(Some(from), to);
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        if moves_lanes {
            lanes::lock_customer(&txn, &registration.customer_key).await?;
        }
        let now = Utc::now();
        let mut model: deal_registration::ActiveModel = registration.clone().into();
        match action {
            Action::Submit if from == DealStatus::Returned => {
                if registration.resubmission_count >= MAX_RESUBMISSIONS {
                    return Ok(Err(UserError::one(
                        "id",
                        UserErrorCode::RuleViolation,
                        format!(
                            "a registration can be resubmitted at most {MAX_RESUBMISSIONS} times"
                        ),
                    )));
                }
                model.resubmission_count = Set(registration.resubmission_count + 1);
                model.editable_fields = Set(None);
            }
            Action::Submit => model.submitted_at = Set(Some(now)),
            Action::Approve => {
                let probe = Probe::of(&txn, &registration).await?;
                if conflicts(&txn, &probe)
                    .await?
                    .iter()
                    .any(|c| c.blocks() && c.kind == ConflictKind::PartnerRegistration)
                {
                    return Ok(Err(UserError::one(
                        "id",
                        UserErrorCode::RuleViolation,
                        "an earlier registration for this customer and product has priority",
                    )));
                }
                if let Some(days) = input.protection_days {
                    if !PROTECTION_CHOICES.contains(&days) {
                        return Ok(Err(UserError::one(
                            "protectionDays",
                            UserErrorCode::Invalid,
                            "choose 0 (none), 30, 60, 90 or 120",
                        )));
                    }
                }
                if let Err(errors) = claim(&txn, &registration).await? {
                    return Ok(Err(errors));
                }
                let days =
                    protection_days(&txn, registration.partner_id, input.protection_days).await?;
                model.approved_at = Set(Some(now));
                model.protected_until = Set((days > 0).then(|| now + Duration::days(days.into())));
                if from == DealStatus::Submitted {
                    record(
                        &txn,
                        &registration,
                        Some(actor),
                        Some(from),
                        DealStatus::UnderReview,
                        Some("review started".into()),
                    )
                    .await?;
                }
            }
            Action::Return => match returned_fields(&input.editable_fields) {
                Ok(fields) => model.editable_fields = Set(Some(fields.join(","))),
                Err(errors) => return Ok(Err(errors)),
            },
            Action::MarkWon => {
                let Some(money) = &input.closed_amount else {
                    return Ok(Err(UserError::one(
                        "closedAmount",
                        UserErrorCode::Required,
                        "is required",
                    )));
                };
                match to_minor(money) {
                    Ok(minor) if minor > 0 && money.currency == registration.currency => {
                        model.closed_amount_minor = Set(Some(minor))
                    }
                    Ok(_) => {
                        return Ok(Err(UserError::one(
                            "closedAmount",
                            UserErrorCode::Invalid,
                            format!("must be a positive amount in {}", registration.currency),
                        )))
                    }
                    Err(message) => {
                        return Ok(Err(UserError::one(
                            "closedAmount",
                            UserErrorCode::Invalid,
                            message,
                        )))
                    }
                }
                let closed_at = input.closed_at.unwrap_or(now);
                if closed_at > now {
                    return Ok(Err(UserError::one(
                        "closedAt",
                        UserErrorCode::Invalid,
                        "cannot be in the future",
                    )));
                }
                model.closed_at = Set(Some(closed_at));
            }
            Action::MarkLost => model.closed_at = Set(Some(now)),
            _ => {}
        }
        if matches!(to, DealStatus::Approved | DealStatus::Rejected)
            && registration.decided_at.is_none()
        {
            // The first decision's time: what the program's time to decision measures.
            model.decided_at = Set(Some(now));
        }
        if matches!(
            to,
            DealStatus::Won | DealStatus::Lost | DealStatus::Cancelled | DealStatus::Expired
        ) {
            release(&txn, registration.id).await?;
        }
        model.status = Set(to);
        model.version = Set(registration.version + 1);
        model.updated_at = Set(now);
        // Compare-and-swap on the version: a concurrent change makes this touch nothing.
        let moved = deal_registration::Entity::update_many()
            .set(model)
            .filter(deal_registration::Column::Id.eq(registration.id))
            .filter(deal_registration::Column::Version.eq(registration.version))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "id",
                UserErrorCode::StaleVersion,
                "the registration changed meanwhile; reload and retry",
            )));
        }
        if moves_lanes {
            lanes::refresh(&txn, &registration.customer_key, registration.id).await?;
        }
        let from_status = if action == Action::Approve && from == DealStatus::Submitted {
            DealStatus::UnderReview
        } else {
            from
        };
        let updated = reload(&txn, registration.id).await?;
        if moves_lanes {
            keys::index_registration(&txn, &updated).await?;
            conflict_scores::reassess_around(&txn, &updated).await?;
        }
        record(
            &txn,
            &updated,
            Some(actor),
            Some(from_status),
            to,
            input.reason.clone(),
        )
        .await?;
        if action == Action::MarkWon {
            // Rebates accrue in the same transaction as the win, so neither exists alone.
            crate::incentives::service::on_deal_won(&txn, &updated, actor.user_id).await?;
        }
        Ok(Ok(updated))
    }
    .await;
    settle(txn, result).await
}

/// Expires approved registrations whose protection has lapsed. Safe on several replicas:
/// each row moves by compare-and-swap, so only one replica records each expiry.
pub async fn expire_lapsed(db: &Db) -> AppResult<u64> {
    let now = Utc::now();
    let lapsed = deal_registration::Entity::find()
        .filter(super::status_is(DealStatus::Approved))
        .filter(deal_registration::Column::ProtectedUntil.lt(now))
        .limit(500)
        .all(db)
        .await?;
    let mut expired = 0;
    for registration in lapsed {
        let txn = crate::db::begin_write(db).await?;
        lanes::lock_customer(&txn, &registration.customer_key).await?;
        let moved = deal_registration::Entity::update_many()
            .col_expr(
                deal_registration::Column::Status,
                DealStatus::Expired.into(),
            )
            .col_expr(
                deal_registration::Column::Version,
                (registration.version + 1).into(),
            )
            .col_expr(deal_registration::Column::UpdatedAt, now.into())
            .filter(deal_registration::Column::Id.eq(registration.id))
            .filter(super::status_is(DealStatus::Approved))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 1 {
            release(&txn, registration.id).await?;
            lanes::refresh(&txn, &registration.customer_key, registration.id).await?;
            let expired_now = deal_registration::Model {
                status: DealStatus::Expired,
                ..registration.clone()
            };
            keys::index_registration(&txn, &expired_now).await?;
            conflict_scores::reassess_around(&txn, &expired_now).await?;
            record(
                &txn,
                &registration,
                None,
                Some(DealStatus::Approved),
                DealStatus::Expired,
                Some("protection period ended".into()),
            )
            .await?;
            expired += 1;
        }
        txn.commit().await?;
    }
    Ok(expired)
}

/// Runs `expire_lapsed` every `period` until the process ends.
pub fn spawn_expiry_job(db: Db, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        loop {
            ticker.tick().await;
            match expire_lapsed(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired lapsed deal registrations"),
                Err(err) => tracing::warn!(error = %err, "deal expiry run failed"),
            }
        }
    });
}
