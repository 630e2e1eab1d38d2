//! What registering, reviewing and editing deals share: the statuses that hold a customer,
//! the history and events of a move, and a registration's products. Registering is in
//! `register`, the workflow's moves in `review`, accounts in `accounts`, conflicts in
//! `candidates` (with the matcher in `matching`).

use std::collections::HashMap;

use chrono::Utc;
use entity::enums::DealStatus;
use entity::{deal_comment, deal_history, deal_registration, deal_registration_product, product};
use sea_orm::sea_query::{Expr, InsertStatement, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter,
};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::events::{self, EventType, NewEvent};
use crate::loaders::distinct;

pub use super::accounts::{create_account, NewAccount};
pub use super::register::{register, register_assessed, RegistrationInput};
pub use super::review::{act, expire_lapsed, spawn_expiry_job, ActionInput};
pub use super::update::{changes_from, update, RegistrationChanges};

/// Statuses that hold or claim a customer.
pub const ACTIVE: [DealStatus; 3] = [
    DealStatus::Submitted,
    DealStatus::UnderReview,
    DealStatus::Approved,
];

/// Appends a move of `registration` to its history, and the event others react to, in the
/// caller's transaction. `actor` is none for the server's own moves (expiry).
pub(super) async fn record(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
    actor: Option<&Actor>,
    from: Option<DealStatus>,
    to: DealStatus,
    reason: Option<String>,
) -> AppResult<()> {
    let mut row = history_row(
        registration.id,
        actor.map(|a| a.user_id),
        from,
        to,
        reason.clone(),
    );
    row.api_key_id = Set(actor.and_then(Actor::api_key_id));
    row.insert(db).await?;
    if let Some(ty) = status_event(to) {
        events::emit(db, deal_event(ty, registration, from, to, reason)).await?;
    }
    Ok(())
}

/// The event a move into `to` publishes, if any.
fn status_event(to: DealStatus) -> Option<EventType> {
    Some(match to {
        DealStatus::Submitted => EventType::DealSubmitted,
        DealStatus::Approved => EventType::DealApproved,
        DealStatus::Rejected => EventType::DealRejected,
        DealStatus::Returned => EventType::DealReturned,
        DealStatus::Expired => EventType::DealExpired,
        DealStatus::Won => EventType::DealWon,
        DealStatus::Lost => EventType::DealLost,
        _ => return None,
    })
}

/// A registration's event: what the partner's own API answers show of it (no internal
/// notes, no other partner).
pub(super) fn deal_event(
    ty: EventType,
    registration: &deal_registration::Model,
    from: Option<DealStatus>,
    to: DealStatus,
    reason: Option<String>,
) -> NewEvent {
    NewEvent {
        ty,
        subject_id: registration.id,
        partner_id: Some(registration.partner_id),
        data: serde_json::json!({
            "status": to.to_value(),
            "previousStatus": from.map(|s| s.to_value()),
            "reason": reason,
            "externalId": registration.external_id,
            "customerName": registration.customer_name,
        }),
    }
}

/// One entry of a registration's history, not yet written.
pub(super) fn history_row(
    id: i64,
    actor: Option<i64>,
    from: Option<DealStatus>,
    to: DealStatus,
    reason: Option<String>,
) -> deal_history::ActiveModel {
    deal_history::ActiveModel {
        registration_id: Set(id),
        actor_id: Set(actor),
        from_status: Set(from),
        to_status: Set(to),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        api_key_id: Set(None),
        ..Default::default()
    }
}

pub async fn products_of(db: &impl ConnectionTrait, registration_id: i64) -> AppResult<Vec<i64>> {
    Ok(products_of_many(db, &[registration_id])
        .await?
        .remove(&registration_id)
        .unwrap_or_default())
}

/// The products of several registrations in one query, by registration.
pub async fn products_of_many(
    db: &impl ConnectionTrait,
    registration_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut by_registration: HashMap<i64, Vec<i64>> = HashMap::new();
    let rows = deal_registration_product::Entity::find()
        .filter(
            deal_registration_product::Column::RegistrationId
                .is_in(registration_ids.iter().copied()),
        )
        .all(db)
        .await?;
    for row in rows {
        by_registration
            .entry(row.registration_id)
            .or_default()
            .push(row.product_id);
    }
    for products in by_registration.values_mut() {
        products.sort_unstable();
    }
    Ok(by_registration)
}

pub(super) async fn reload(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<deal_registration::Model> {
    deal_registration::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("registration vanished"))
}

/// Replaces the products of an existing registration.
pub(super) async fn replace_products(
    db: &impl ConnectionTrait,
    registration_id: i64,
    products: &[i64],
) -> AppResult<()> {
    deal_registration_product::Entity::delete_many()
        .filter(deal_registration_product::Column::RegistrationId.eq(registration_id))
        .exec(db)
        .await?;
    insert_products(db, registration_id, products).await
}

/// Adds products to a registration (duplicates dropped).
pub(super) async fn insert_products(
    db: &impl ConnectionTrait,
    registration_id: i64,
    products: &[i64],
) -> AppResult<()> {
    let insert = products_insert(Expr::val(registration_id).into(), products);
    Ok(crate::db::insert_together(db, insert.into_iter().collect()).await?)
}

/// The INSERT of a registration's products (duplicates dropped); none for no products.
/// `registration`: its id.
pub(super) fn products_insert(
    registration: SimpleExpr,
    products: &[i64],
) -> Option<InsertStatement> {
    let products = distinct(products.iter().copied());
    (!products.is_empty()).then(|| {
        let mut insert = Query::insert();
        insert
            .into_table(deal_registration_product::Entity)
            .columns([
                deal_registration_product::Column::RegistrationId,
                deal_registration_product::Column::ProductId,
            ]);
        for product in products {
            insert.values_panic([registration.clone(), product.into()]);
        }
        insert
    })
}

/// How many registrations `partners` hold, from the counts database triggers keep
/// (migration 11): a sum over at most 16 rows a partner, where counting the registrations
/// walks every one of them.
pub async fn registrations_held(db: &impl ConnectionTrait, partners: &[i64]) -> AppResult<u64> {
    let total = crate::db::sums_minor(db, [held_total(partners)]).await?[0];
    u64::try_from(total)
        .map_err(|_| AppError::internal(format!("a registration count of {total} was kept")))
}

pub async fn add_comment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    registration_id: i64,
    body: &str,
    internal: bool,
) -> AppResult<deal_comment::Model> {
    Ok(deal_comment::ActiveModel {
        registration_id: Set(registration_id),
        author_id: Set(Some(actor.user_id)),
        api_key_id: Set(actor.api_key_id()),
        body: Set(body.trim().to_owned()),
        internal: Set(internal),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The query of how many registrations `partners` hold, from the counts the database keeps:
/// an integer sum, read the way money's minor units are.
pub fn held_total(partners: &[i64]) -> SelectStatement {
    use entity::partner_registration_count as counted;
    let select =
        counted::Entity::find().filter(counted::Column::PartnerId.is_in(partners.iter().copied()));
    crate::db::minor_total(select, counted::Column::Registrations)
}

/// Products by id, for resolving lists.
pub async fn products_by_id(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, product::Model>> {
    Ok(product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}
