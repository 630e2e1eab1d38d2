//! Deal registration: register (idempotent), move through the workflow, enforce
//! exclusivity in the database, find conflicts, expire lapsed protection.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::enums::{AccountOwnership, DealStatus, DealType};
use entity::{
    account, account_domain, deal_comment, deal_exclusivity, deal_history, deal_registration,
    deal_registration_product, partner, product, tier,
};
use sea_orm::sea_query::{Expr, InsertStatement, Query, SimpleExpr};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait, SqlErr, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::candidates::{self, conflicts, ConflictKind, Probe};
use super::lanes;
use super::matching::{web, Customer};
use super::workflow::{self, Action, Side, EDITABLE, MAX_RESUBMISSIONS};
use crate::auth::Actor;
use crate::db::{self, settle, Db, Outcome, Shapes};
use crate::error::{AppError, AppResult};
use crate::events::{self, EventType, NewEvent};
use crate::loaders::distinct;
use crate::money::{to_minor, MoneyInput};
use crate::partners::rules::normalize_country;
use crate::relay::{UserError, UserErrorCode};
use crate::tiers::rules::{DEFAULT_PROTECTION_DAYS, PROTECTION_CHOICES};

/// Statuses that hold or claim a customer.
pub const ACTIVE: [DealStatus; 3] = [
    DealStatus::Submitted,
    DealStatus::UnderReview,
    DealStatus::Approved,
];

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RegistrationInput {
    pub customer_name: String,
    pub customer_domain: Option<String>,
    pub customer_country: Option<String>,
    pub product_ids: Vec<i64>,
    pub estimated_value: Option<(String, String)>,
    pub expected_close_date: Option<NaiveDate>,
    pub deal_type: Option<String>,
    pub description: Option<String>,
    pub external_id: Option<String>,
}

/// A registration's customer and products, checked and normalised.
pub struct Checked {
    customer: Customer,
    domain: Option<String>,
    country: Option<String>,
    value_minor: i64,
    currency: String,
    close_date: NaiveDate,
}

fn request_hash(input: &RegistrationInput, submit: bool) -> String {
    let canonical = serde_json::to_string(&(input, submit)).unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn check(
    db: &impl ConnectionTrait,
    input: &RegistrationInput,
    money: Option<&MoneyInput>,
    errors: &mut Vec<UserError>,
) -> AppResult<Option<Checked>> {
    if input.customer_name.trim().is_empty() {
        errors.push(UserError::new(
            "customerName",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    let web = match web::parse(input.customer_domain.as_deref().unwrap_or("")) {
        Ok(web) => web,
        Err(problem) => {
            errors.push(UserError::new(
                "customerDomain",
                UserErrorCode::Invalid,
                problem,
            ));
            None
        }
    };
    let country = match input
        .customer_country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(text) => {
            let code = normalize_country(text);
            if code.is_none() {
                errors.push(UserError::new(
                    "customerCountry",
                    UserErrorCode::Invalid,
                    "use an ISO 3166-1 alpha-2 code such as US",
                ));
            }
            code
        }
    };
    if input.product_ids.is_empty() {
        errors.push(UserError::new(
            "productIds",
            UserErrorCode::Required,
            "name at least one product",
        ));
    } else {
        let found = active_products(db, &input.product_ids).await?;
        for (i, id) in input.product_ids.iter().enumerate() {
            if !found.contains(id) {
                errors.push(UserError::new(
                    &format!("productIds.{i}"),
                    UserErrorCode::NotFound,
                    "no such product",
                ));
            }
        }
    }
    let mut value = None;
    match money {
        None => errors.push(UserError::new(
            "estimatedValue",
            UserErrorCode::Required,
            "is required",
        )),
        Some(money) => match to_minor(money) {
            Ok(minor) if minor > 0 => value = Some((minor, money.currency.clone())),
            Ok(_) => errors.push(UserError::new(
                "estimatedValue",
                UserErrorCode::Invalid,
                "must be greater than zero",
            )),
            Err(message) => errors.push(UserError::new(
                "estimatedValue",
                UserErrorCode::Invalid,
                message,
            )),
        },
    }
    let close_date = match input.expected_close_date {
        None => {
            errors.push(UserError::new(
                "expectedCloseDate",
                UserErrorCode::Required,
                "is required",
            ));
            None
        }
        Some(date) if date < Utc::now().date_naive() => {
            errors.push(UserError::new(
                "expectedCloseDate",
                UserErrorCode::Invalid,
                "cannot be in the past",
            ));
            None
        }
        Some(date) => Some(date),
    };
    if input
        .description
        .as_deref()
        .is_some_and(|d| d.len() > 10_000)
    {
        errors.push(UserError::new(
            "description",
            UserErrorCode::Invalid,
            "must be at most 10000 characters",
        ));
    }
    if !errors.is_empty() {
        return Ok(None);
    }
    let (Some((value_minor, currency)), Some(close_date)) = (value, close_date) else {
        return Ok(None);
    };
    let domain = web.as_ref().map(|web| web.host.clone());
    Ok(Some(Checked {
        customer: Customer::new(&input.customer_name, domain.as_deref(), country.as_deref()),
        domain,
        country,
        value_minor,
        currency,
        close_date,
    }))
}

static ACTIVE_PRODUCTS: Shapes = Shapes::new();

/// Up to this many products named, the product check's text is kept.
const KEPT_PRODUCTS: usize = 8;

/// Which of `ids` are active products.
async fn active_products(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<i64>> {
    let build = || {
        product::Entity::find()
            .select_only()
            .column(product::Column::Id)
            .filter(product::Column::Id.is_in(ids.iter().copied()))
            .filter(product::Column::Active.eq(true))
            .into_query()
    };
    let backend = db.get_database_backend();
    let statement = if ids.len() <= KEPT_PRODUCTS {
        let mut values: Vec<Value> = ids.iter().map(|&id| id.into()).collect();
        values.push(true.into());
        ACTIVE_PRODUCTS.statement(backend, ids.len(), values, build)?
    } else {
        backend.build(&build())
    };
    let rows = db.query_all(statement).await?;
    let ids = rows.iter().map(|row| row.try_get::<i64>("", "id"));
    Ok(ids.collect::<Result<_, _>>()?)
}

fn deal_type(text: Option<&str>) -> DealType {
    match text {
        Some("RENEWAL") => DealType::Renewal,
        Some("EXPANSION") => DealType::Expansion,
        _ => DealType::New,
    }
}

/// Appends a move of `registration` to its history, and the event others react to, in the
/// caller's transaction. `actor` is none for the server's own moves (expiry).
async fn record(
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
fn deal_event(
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
fn history_row(
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

async fn existing_by_key(
    db: &impl ConnectionTrait,
    partner_id: i64,
    key: &str,
) -> AppResult<Option<deal_registration::Model>> {
    Ok(deal_registration::Entity::find()
        .filter(deal_registration::Column::PartnerId.eq(partner_id))
        .filter(deal_registration::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

fn replayed(found: deal_registration::Model, hash: &str) -> Outcome<deal_registration::Model> {
    if found.request_hash.as_deref() == Some(hash) {
        Ok(found)
    } else {
        Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Taken,
            "this key was used for a different registration",
        ))
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Registers a deal for the caller's organisation (as a draft, or submitted). The same
/// idempotency key from the same organisation returns the first result and creates nothing.
pub async fn register(
    db: &Db,
    actor: &Actor,
    input: RegistrationInput,
    money: Option<MoneyInput>,
    idempotency_key: Option<String>,
    submit: bool,
) -> AppResult<Outcome<deal_registration::Model>> {
    let partner_id = actor.partner_id.ok_or_else(AppError::forbidden)?;
    let key = idempotency_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if key.as_ref().is_some_and(|k| k.len() > 200) {
        return Ok(Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "must be at most 200 characters",
        )));
    }
    let hash = request_hash(&input, submit);
    if let Some(key) = &key {
        if let Some(found) = existing_by_key(db, partner_id, key).await? {
            return Ok(replayed(found, &hash));
        }
    }
    let mut errors = Vec::new();
    let Some(checked) = check(db, &input, money.as_ref(), &mut errors).await? else {
        return Ok(Err(errors));
    };
    let new = NewRegistration {
        partner_id,
        user_id: actor.user_id,
        api_key_id: actor.api_key_id(),
        input,
        checked,
        key: key.clone(),
        hash: hash.clone(),
        submit,
    };
    let outcome = if new.submit {
        let txn = crate::db::begin_write_starting_with_a_write(db.pool()).await?;
        let result = insert_submission(&txn, &new).await;
        settle(txn, result).await?
    } else {
        insert_draft(db, &new).await?
    };
    match outcome {
        // The racing request committed first: answer with its result, as a replay would.
        Err(errors)
            if key.is_some()
                && errors
                    .iter()
                    .any(|e| e.field.as_deref() == Some("idempotencyKey")) =>
        {
            match existing_by_key(db, partner_id, key.as_deref().unwrap_or_default()).await? {
                Some(found) => Ok(replayed(found, &hash)),
                None => Ok(Err(errors)),
            }
        }
        other => Ok(other),
    }
}

/// A registration that passed its checks, to be written.
struct NewRegistration {
    partner_id: i64,
    user_id: i64,
    api_key_id: Option<i64>,
    input: RegistrationInput,
    checked: Checked,
    key: Option<String>,
    hash: String,
    submit: bool,
}

/// The texts of a draft's atomic insert, by its number of products.
static DRAFT_INSERTS: Shapes = Shapes::new();

/// Writes a draft `new` with its products and history: atomic without a transaction (a
/// submission also takes the customer's lock and moves the review lanes). The draft path
/// is what partners' systems call hardest: up to `KEPT_PRODUCTS` products its statement's
/// text is kept (building it was a tenth of the server's CPU per registration).
async fn insert_draft(
    db: &Db,
    new: &NewRegistration,
) -> AppResult<Outcome<deal_registration::Model>> {
    let now = Utc::now();
    let customer_key = new.checked.customer.key();
    let backend = db.get_database_backend();
    let build = || {
        db::atomic_insert::<deal_registration::Entity>(
            backend,
            registration_insert(new, &customer_key, now),
            |registration| registration_details(registration, new, now),
        )
    };
    let products = distinct(new.input.product_ids.iter().copied());
    let statement = if products.len() <= KEPT_PRODUCTS {
        let mut values = db::insert_values(&new_row(new, &customer_key, now));
        values.extend(products.iter().map(|&id| Value::from(id)));
        values.extend(history_values(new, now).into_iter().flatten());
        DRAFT_INSERTS.built(backend, products.len(), values, build)?
    } else {
        build()
    };
    created(db::write_atomically(db, statement).await)
}

/// Writes a submitted `new` with its products, history and claim on the customer.
async fn insert_submission(
    db: &impl ConnectionTrait,
    new: &NewRegistration,
) -> AppResult<Outcome<deal_registration::Model>> {
    let customer_key = new.checked.customer.key();
    lanes::lock_customer(db, &customer_key).await?;
    let now = Utc::now();
    let inserted =
        crate::db::insert_with_dependents(db, registration_insert(new, &customer_key, now), |id| {
            registration_details(id, new, now)
        })
        .await;
    let created = match created(inserted)? {
        Ok(created) => created,
        errors => return Ok(errors),
    };
    lanes::refresh(db, &customer_key, created.id).await?;
    candidates::index_registration(db, &created).await?;
    let submitted = deal_event(
        EventType::DealSubmitted,
        &created,
        Some(DealStatus::Draft),
        DealStatus::Submitted,
        None,
    );
    events::emit(db, submitted).await?;
    announce_conflicts(db, &created).await?;
    Ok(Ok(created))
}

/// Tells vendor staff that a just-submitted registration conflicts with others (the
/// `deal_registration.conflict_detected` event names them, so partners never receive it).
async fn announce_conflicts(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
) -> AppResult<()> {
    let probe = Probe::of(db, registration).await?;
    let found: Vec<_> = conflicts(db, &probe)
        .await?
        .into_iter()
        .filter(candidates::Conflict::blocks)
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let listed: Vec<serde_json::Value> = found
        .iter()
        .map(|c| {
            serde_json::json!({
                "kind": format!("{:?}", c.kind),
                "rule": c.rule,
                "score": c.verdict.score,
                "matchedOn": c.verdict.matched_on(),
                "registrationId": c.registration_id
                    .map(|id| crate::relay::global_id(super::NODE_KIND, id).to_string()),
                "accountId": c.account_id
                    .map(|id| crate::relay::global_id("Account", id).to_string()),
            })
        })
        .collect();
    let event = NewEvent {
        ty: EventType::DealConflictDetected,
        subject_id: registration.id,
        partner_id: Some(registration.partner_id),
        data: serde_json::json!({ "status": registration.status.to_value(), "conflicts": listed }),
    };
    events::emit(db, event).await
}

/// The INSERT of `new`'s row, returning it.
fn registration_insert(
    new: &NewRegistration,
    customer_key: &str,
    now: DateTime<Utc>,
) -> InsertStatement {
    let mut row = deal_registration::Entity::insert(new_row(new, customer_key, now)).into_query();
    row.returning_all();
    row
}

/// The registration an INSERT returned, or the user error of a lost race for its key.
fn created(
    inserted: Result<sea_orm::QueryResult, DbErr>,
) -> AppResult<Outcome<deal_registration::Model>> {
    match inserted.and_then(|row| db::Fast::<deal_registration::Model>::from_query_result(&row, ""))
    {
        Ok(db::Fast(created)) => Ok(Ok(created)),
        // A concurrent request with the same key got there first.
        Err(err) if is_unique_violation(&err) => Ok(Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Taken,
            "a request with this key is in progress or done; retry to read its result",
        ))),
        Err(err) => Err(err.into()),
    }
}

/// The registration row of `new`.
fn new_row(
    new: &NewRegistration,
    customer_key: &str,
    now: DateTime<Utc>,
) -> deal_registration::ActiveModel {
    let status = if new.submit {
        DealStatus::Submitted
    } else {
        DealStatus::Draft
    };
    deal_registration::ActiveModel {
        partner_id: Set(new.partner_id),
        created_by_id: Set(Some(new.user_id)),
        status: Set(status),
        customer_name: Set(new.input.customer_name.trim().to_owned()),
        customer_name_key: Set(new.checked.customer.name_key()),
        customer_name_token: Set(new.checked.customer.first_token()),
        customer_domain: Set(new.checked.domain.clone()),
        customer_root: Set(new.checked.customer.identity()),
        customer_country: Set(new.checked.country.clone()),
        customer_key: Set(customer_key.to_owned()),
        estimated_value_minor: Set(new.checked.value_minor),
        currency: Set(new.checked.currency.clone()),
        expected_close_date: Set(new.checked.close_date),
        deal_type: Set(deal_type(new.input.deal_type.as_deref())),
        description: Set(new.input.description.clone()),
        external_id: Set(new.input.external_id.clone()),
        idempotency_key: Set(new.key.clone()),
        request_hash: Set(Some(new.hash.clone())),
        submitted_at: Set(new.submit.then_some(now)),
        resubmission_count: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The INSERTs of a new registration's products and history; `registration` is its id.
fn registration_details(
    registration: SimpleExpr,
    new: &NewRegistration,
    now: DateTime<Utc>,
) -> Vec<InsertStatement> {
    let mut history = Query::insert();
    history.into_table(deal_history::Entity).columns([
        deal_history::Column::RegistrationId,
        deal_history::Column::ActorId,
        deal_history::Column::FromStatus,
        deal_history::Column::ToStatus,
        deal_history::Column::Reason,
        deal_history::Column::CreatedAt,
        deal_history::Column::ApiKeyId,
    ]);
    for values in history_values(new, now) {
        let row = std::iter::once(registration.clone()).chain(values.map(SimpleExpr::from));
        history.values_panic(row);
    }
    products_insert(registration, &new.input.product_ids)
        .into_iter()
        .chain([history])
        .collect()
}

/// The values of a new registration's history rows after its id: actor, from, to, reason,
/// time and API key of each move (registered as a draft, then submitted if it is).
fn history_values(new: &NewRegistration, now: DateTime<Utc>) -> Vec<[Value; 6]> {
    let mut moves = vec![(None, DealStatus::Draft, Some("registered"))];
    if new.submit {
        moves.push((Some(DealStatus::Draft), DealStatus::Submitted, None));
    }
    moves
        .into_iter()
        .map(|(from, to, reason)| {
            [
                Some(new.user_id).into(),
                from.map(|s| s.to_value()).into(),
                to.to_value().into(),
                reason.map(str::to_owned).into(),
                now.into(),
                new.api_key_id.into(),
            ]
        })
        .collect()
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

/// Evidence that a registration collides with something that has priority over it.
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
            candidates::index_registration(&txn, &updated).await?;
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

async fn reload(db: &impl ConnectionTrait, id: i64) -> AppResult<deal_registration::Model> {
    deal_registration::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("registration vanished"))
}

/// Replaces the products of an existing registration.
async fn replace_products(
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
async fn insert_products(
    db: &impl ConnectionTrait,
    registration_id: i64,
    products: &[i64],
) -> AppResult<()> {
    let insert = products_insert(Expr::val(registration_id).into(), products);
    Ok(crate::db::insert_together(db, insert.into_iter().collect()).await?)
}

/// The INSERT of a registration's products (duplicates dropped); none for no products.
/// `registration`: its id.
fn products_insert(registration: SimpleExpr, products: &[i64]) -> Option<InsertStatement> {
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
            candidates::index_registration(&txn, &expired_now).await?;
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

/// How many registrations `partners` hold, from the counts database triggers keep
/// (migration 11): a sum over at most 16 rows a partner, where counting the registrations
/// walks every one of them.
pub async fn registrations_held(db: &impl ConnectionTrait, partners: &[i64]) -> AppResult<u64> {
    use entity::partner_registration_count as counted;
    let select =
        counted::Entity::find().filter(counted::Column::PartnerId.is_in(partners.iter().copied()));
    // An integer sum, read the way money's minor units are.
    let total = crate::db::sum_minor(db, select, counted::Column::Registrations).await?;
    u64::try_from(total)
        .map_err(|_| AppError::internal(format!("a registration count of {total} was kept")))
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

pub struct NewAccount {
    pub name: String,
    pub domains: Vec<String>,
    pub country: Option<String>,
    pub ownership: AccountOwnership,
    pub is_customer: bool,
    pub owner_id: Option<i64>,
}

/// Records a customer account for the rules of engagement. A `DIRECT` account needs its
/// owning direct rep.
pub async fn create_account(db: &Db, new: NewAccount) -> AppResult<Outcome<account::Model>> {
    let mut errors = Vec::new();
    if new.name.trim().is_empty() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    let mut domains = Vec::new();
    for (i, text) in new.domains.iter().enumerate() {
        match web::parse(text) {
            Ok(Some(web)) => domains.push(web),
            Ok(None) => errors.push(UserError::new(
                &format!("domains.{i}"),
                UserErrorCode::Required,
                "must not be blank",
            )),
            Err(problem) => errors.push(UserError::new(
                &format!("domains.{i}"),
                UserErrorCode::Invalid,
                problem,
            )),
        }
    }
    if new.ownership == AccountOwnership::Direct {
        let owner = match new.owner_id {
            Some(id) => entity::user::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
        if !owner.is_some_and(|o| o.role == entity::enums::Role::DirectRep) {
            errors.push(UserError::new(
                "ownerId",
                UserErrorCode::Required,
                "a DIRECT account is owned by a direct rep",
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let country = new.country.as_deref().and_then(normalize_country);
        let customer = Customer::new(&new.name, None, country.as_deref());
        let created = account::ActiveModel {
            name: Set(new.name.trim().to_owned()),
            name_token: Set(customer.first_token()),
            name_key: Set(customer.name_key()),
            country: Set(country),
            ownership: Set(new.ownership),
            is_customer: Set(new.is_customer),
            owner_id: Set(new.owner_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for web in domains {
            let inserted = account_domain::ActiveModel {
                account_id: Set(created.id),
                root: Set(web.identity_key().unwrap_or_else(|| web.host.clone())),
                domain: Set(web.host),
                ..Default::default()
            }
            .insert(&txn)
            .await;
            match inserted {
                Ok(_) => {}
                Err(err) if is_unique_violation(&err) => {
                    return Ok(Err(UserError::one(
                        "domains",
                        UserErrorCode::Taken,
                        "another account has this domain",
                    )))
                }
                Err(err) => return Err(err.into()),
            }
        }
        candidates::index_account(&txn, created.id).await?;
        Ok(Ok(created))
    }
    .await;
    settle(txn, result).await
}

/// Changes a partner asks for on a `DRAFT` (any field) or `RETURNED` registration (only the
/// fields the reviewer listed). `None` leaves a field as it is.
#[derive(Default)]
pub struct RegistrationChanges {
    pub customer_name: Option<String>,
    pub customer_domain: Option<String>,
    pub customer_country: Option<String>,
    pub product_ids: Option<Vec<i64>>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<NaiveDate>,
    pub deal_type: Option<String>,
    pub description: Option<String>,
}

impl RegistrationChanges {
    /// The API names of the fields this change touches.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("customerName", self.customer_name.is_some()),
            ("customerDomain", self.customer_domain.is_some()),
            ("customerCountry", self.customer_country.is_some()),
            ("productIds", self.product_ids.is_some()),
            ("estimatedValue", self.estimated_value.is_some()),
            ("expectedCloseDate", self.expected_close_date.is_some()),
            ("dealType", self.deal_type.is_some()),
            ("description", self.description.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// What an import row would change on `registration` (the same registration by its
/// `externalId`): the changes, empty when the row matches what is stored, or the row's
/// user errors.
pub async fn changes_from(
    db: &Db,
    registration: &deal_registration::Model,
    input: &RegistrationInput,
    money: Option<&MoneyInput>,
) -> AppResult<Outcome<RegistrationChanges>> {
    let mut errors = Vec::new();
    let Some(checked) = check(db, input, money, &mut errors).await? else {
        return Ok(Err(errors));
    };
    let name = input.customer_name.trim();
    let products = distinct(input.product_ids.iter().copied());
    let mut stored_products = products_of(db, registration.id).await?;
    stored_products.sort_unstable();
    let mut wanted_products = products.clone();
    wanted_products.sort_unstable();
    let kind = deal_type(input.deal_type.as_deref());
    let differs = |same: bool| !same;
    Ok(Ok(RegistrationChanges {
        customer_name: differs(name == registration.customer_name).then(|| name.to_owned()),
        customer_domain: differs(checked.domain == registration.customer_domain)
            .then(|| input.customer_domain.clone())
            .flatten(),
        customer_country: differs(checked.country == registration.customer_country)
            .then(|| input.customer_country.clone())
            .flatten(),
        product_ids: differs(wanted_products == stored_products).then_some(products),
        estimated_value: differs(
            checked.value_minor == registration.estimated_value_minor
                && checked.currency == registration.currency,
        )
        .then(|| money.cloned())
        .flatten(),
        expected_close_date: differs(checked.close_date == registration.expected_close_date)
            .then_some(checked.close_date),
        deal_type: differs(kind == registration.deal_type)
            .then(|| input.deal_type.clone())
            .flatten(),
        description: differs(input.description == registration.description)
            .then(|| input.description.clone())
            .flatten(),
    }))
}

pub async fn update(
    db: &Db,
    registration: deal_registration::Model,
    version: i32,
    changes: RegistrationChanges,
) -> AppResult<Outcome<deal_registration::Model>> {
    if registration.version != version {
        return Ok(Err(UserError::one(
            "version",
            UserErrorCode::StaleVersion,
            "the registration changed since you read it",
        )));
    }
    let listed: Vec<String> = registration
        .editable_fields
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let editable = workflow::editable_fields(registration.status, &listed);
    let refused: Vec<UserError> = changes
        .fields()
        .into_iter()
        .filter(|field| !editable.iter().any(|e| e == field))
        .map(|field| {
            UserError::new(
                field,
                UserErrorCode::RuleViolation,
                "this field cannot be changed now",
            )
        })
        .collect();
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    let current_products = products_of(db, registration.id).await?;
    let merged = RegistrationInput {
        customer_name: changes
            .customer_name
            .clone()
            .unwrap_or_else(|| registration.customer_name.clone()),
        customer_domain: changes
            .customer_domain
            .clone()
            .or_else(|| registration.customer_domain.clone()),
        customer_country: changes
            .customer_country
            .clone()
            .or_else(|| registration.customer_country.clone()),
        product_ids: changes.product_ids.clone().unwrap_or(current_products),
        estimated_value: None,
        expected_close_date: Some(
            changes
                .expected_close_date
                .unwrap_or(registration.expected_close_date),
        ),
        deal_type: changes.deal_type.clone(),
        description: changes
            .description
            .clone()
            .or_else(|| registration.description.clone()),
        external_id: registration.external_id.clone(),
    };
    let money = changes.estimated_value.clone().unwrap_or(MoneyInput {
        amount: crate::money::Money::from_minor(
            registration.estimated_value_minor,
            &registration.currency,
        )
        .amount,
        currency: registration.currency.clone(),
    });
    let mut errors = Vec::new();
    let Some(checked) = check(db, &merged, Some(&money), &mut errors).await? else {
        return Ok(Err(errors));
    };
    let txn = crate::db::begin_write(db).await?;
    let result: AppResult<_> = async {
        let mut model: deal_registration::ActiveModel = registration.clone().into();
        model.customer_name = Set(merged.customer_name.trim().to_owned());
        model.customer_name_key = Set(checked.customer.name_key());
        model.customer_name_token = Set(checked.customer.first_token());
        model.customer_domain = Set(checked.domain.clone());
        model.customer_root = Set(checked.customer.identity());
        model.customer_country = Set(checked.country.clone());
        model.customer_key = Set(checked.customer.key());
        model.estimated_value_minor = Set(checked.value_minor);
        model.currency = Set(checked.currency.clone());
        model.expected_close_date = Set(checked.close_date);
        if changes.deal_type.is_some() {
            model.deal_type = Set(deal_type(changes.deal_type.as_deref()));
        }
        model.description = Set(merged.description.clone());
        model.version = Set(version + 1);
        model.updated_at = Set(Utc::now());
        let moved = deal_registration::Entity::update_many()
            .set(model)
            .filter(deal_registration::Column::Id.eq(registration.id))
            .filter(deal_registration::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Ok(Err(UserError::one(
                "version",
                UserErrorCode::StaleVersion,
                "the registration changed since you read it",
            )));
        }
        if let Some(products) = &changes.product_ids {
            replace_products(&txn, registration.id, products).await?;
        }
        let updated = reload(&txn, registration.id).await?;
        candidates::index_registration(&txn, &updated).await?;
        Ok(Ok(updated))
    }
    .await;
    settle(txn, result).await
}
