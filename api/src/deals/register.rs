//! Registering a deal (`registerDeal`, idempotent by key): checking the input, writing a
//! draft or a submission with its products and history, and announcing a submission's
//! conflicts.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{DealStatus, DealType};
use entity::{deal_history, deal_registration, product};
use sea_orm::sea_query::{InsertStatement, Query, SimpleExpr};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, QueryTrait, SqlErr, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::candidates::{self, Probe};
use super::lanes;
use super::matching::{web, Customer};
use super::service::{deal_event, products_insert};
use super::{conflict_scores, keys};
use crate::auth::Actor;
use crate::db::{self, settle, Db, Outcome, Shapes};
use crate::error::{AppError, AppResult};
use crate::events::{self, EventType, NewEvent};
use crate::loaders::distinct;
use crate::money::{to_minor, MoneyInput};
use crate::partners::rules::normalize_country;
use crate::relay::{UserError, UserErrorCode};

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
    pub(super) customer: Customer,
    pub(super) domain: Option<String>,
    pub(super) country: Option<String>,
    pub(super) value_minor: i64,
    pub(super) currency: String,
    pub(super) close_date: NaiveDate,
}

fn request_hash(input: &RegistrationInput, submit: bool) -> String {
    let canonical = serde_json::to_string(&(input, submit)).unwrap_or_default();
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A registration's (or a dry run's) customer checked: a name that is not blank, a web
/// address that parses, an ISO country code. What is wrong goes to `errors`.
pub(super) fn customer_fields(
    name: &str,
    domain: Option<&str>,
    country: Option<&str>,
    errors: &mut Vec<UserError>,
) -> (Option<web::Web>, Option<String>) {
    if name.trim().is_empty() {
        errors.push(UserError::new(
            "customerName",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    let web = match web::parse(domain.unwrap_or("")) {
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
    let country = match country.map(str::trim).filter(|c| !c.is_empty()) {
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
    (web, country)
}

pub(super) async fn check(
    db: &impl ConnectionTrait,
    input: &RegistrationInput,
    money: Option<&MoneyInput>,
    errors: &mut Vec<UserError>,
) -> AppResult<Option<Checked>> {
    let (web, country) = customer_fields(
        &input.customer_name,
        input.customer_domain.as_deref(),
        input.customer_country.as_deref(),
        errors,
    );
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
pub(super) async fn active_products(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<i64>> {
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

pub(super) fn deal_type(text: Option<&str>) -> DealType {
    match text {
        Some("RENEWAL") => DealType::Renewal,
        Some("EXPANSION") => DealType::Expansion,
        _ => DealType::New,
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
    let stored = found.request_hash.clone();
    crate::relay::replayed(found, stored.as_deref(), hash, "registration")
}

pub(super) fn is_unique_violation(err: &DbErr) -> bool {
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
    let registered = register_assessed(db, actor, input, money, idempotency_key, submit).await?;
    Ok(registered.map(|r| r.registration))
}

/// A registration `register` wrote or replayed, with the conflicts a submission's check
/// found at the moment it claimed its customer (`None` for a draft or a replay).
pub struct Registered {
    pub registration: deal_registration::Model,
    pub conflicts: Option<Vec<candidates::Conflict>>,
}

/// `register`, answering a submission's conflicts too (the mutation's response shows them
/// without asking the matcher again).
///
/// A key's earlier request is looked for only when this one cannot be written: its checks
/// failed, or the INSERT met the key (the unique index on partner and key is what decides).
/// The first request with a key, the one partners' systems make, reads nothing for it.
pub async fn register_assessed(
    db: &Db,
    actor: &Actor,
    input: RegistrationInput,
    money: Option<MoneyInput>,
    idempotency_key: Option<String>,
    submit: bool,
) -> AppResult<Outcome<Registered>> {
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
    let mut errors = Vec::new();
    let outcome = match check(db, &input, money.as_ref(), &mut errors).await? {
        None => Err(errors),
        Some(checked) => {
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
            write(db, &new).await?
        }
    };
    let (Err(errors), Some(key)) = (&outcome, &key) else {
        return Ok(outcome);
    };
    // A replay (whose checks may no longer pass), or the racing request committed first:
    // answer with the first result.
    Ok(match existing_by_key(db, partner_id, key).await? {
        Some(found) => replayed(found, &hash).map(|registration| Registered {
            registration,
            conflicts: None,
        }),
        None => Err(errors.clone()),
    })
}

/// Writes `new`: a draft atomically by itself, a submission in a transaction of its own.
async fn write(db: &Db, new: &NewRegistration) -> AppResult<Outcome<Registered>> {
    if !new.submit {
        let draft = insert_draft(db, new).await?;
        return Ok(draft.map(|registration| Registered {
            registration,
            conflicts: None,
        }));
    }
    let txn = crate::db::begin_write_starting_with_a_write(db.pool()).await?;
    let result = insert_submission(&txn, new).await;
    settle(txn, result).await
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

/// Writes a submitted `new` with its products, history, keys and claim on the customer,
/// then its conflict score and lanes in one statement and its events in another.
async fn insert_submission(
    db: &impl ConnectionTrait,
    new: &NewRegistration,
) -> AppResult<Outcome<Registered>> {
    let customer_key = new.checked.customer.key();
    let now = Utc::now();
    // Its keys as `keys::index_registration` would write them for the stored row.
    let stored_customer = Customer::new(
        new.input.customer_name.trim(),
        new.checked.domain.as_deref(),
        new.checked.country.as_deref(),
    );
    // The insert is the transaction's first statement: on SQLite, a read first would make
    // the write that follows fail whenever another writer committed in between. On
    // PostgreSQL it takes the customer's lock first (`lanes::under_customer_lock`).
    let backend = db.get_database_backend();
    let row = registration_insert_locked(backend, new, &customer_key, now)?;
    let inserted = crate::db::insert_with_dependents(db, row, |id| {
        let keys = keys::new_registration_keys(&stored_customer, id.clone(), new.partner_id);
        registration_details(id, new, now)
            .into_iter()
            .chain(keys)
            .collect()
    })
    .await;
    let mut created = match created(inserted)? {
        Ok(created) => created,
        Err(errors) => return Ok(Err(errors)),
    };
    // Its conflicts, with its products as given (not read back).
    let probe = Probe {
        products: distinct(new.input.product_ids.iter().copied()),
        ..Probe::without_products(&created)
    };
    let assessment = candidates::assess(db, &probe).await?;
    let score = conflict_scores::submitted(created.id, assessment.score);
    let scored = lanes::refresh_update(
        &customer_key,
        created.id,
        (deal_registration::Column::ConflictScore, score),
    );
    created.conflict_score = Some(assessment.score);
    let submitted = deal_event(
        EventType::DealSubmitted,
        &created,
        Some(DealStatus::Draft),
        DealStatus::Submitted,
        None,
    );
    let announced = conflicts_announced(&created, &assessment.conflicts);
    let written = std::iter::once(submitted).chain(announced).collect();
    events::emit_all_after(db, scored, written).await?;
    Ok(Ok(Registered {
        registration: created,
        conflicts: Some(assessment.conflicts),
    }))
}

/// The event telling vendor staff that a just-submitted registration conflicts with others
/// (`deal_registration.conflict_detected` names them, so partners never receive it), if it
/// does.
fn conflicts_announced(
    registration: &deal_registration::Model,
    conflicts: &[candidates::Conflict],
) -> Option<NewEvent> {
    let found: Vec<_> = conflicts
        .iter()
        .filter(|conflict| conflict.blocks())
        .collect();
    if found.is_empty() {
        return None;
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
    Some(NewEvent {
        ty: EventType::DealConflictDetected,
        subject_id: registration.id,
        partner_id: Some(registration.partner_id),
        data: serde_json::json!({ "status": registration.status.to_value(), "conflicts": listed }),
    })
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

/// `registration_insert` of a submission: on PostgreSQL its values are selected from the
/// customer's lock, so one statement takes the lock and writes the row, in that order.
fn registration_insert_locked(
    backend: DbBackend,
    new: &NewRegistration,
    customer_key: &str,
    now: DateTime<Utc>,
) -> AppResult<InsertStatement> {
    if backend != DbBackend::Postgres {
        return Ok(registration_insert(new, customer_key, now));
    }
    let (columns, values): (Vec<_>, Vec<_>) = db::set_columns(&new_row(new, customer_key, now))
        .into_iter()
        .unzip();
    let mut insert = Query::insert();
    insert
        .into_table(deal_registration::Entity)
        .columns(columns)
        .select_from(lanes::under_customer_lock(customer_key, values))
        .map_err(|e| AppError::internal(format!("the registration's insert: {e}")))?;
    insert.returning_all();
    Ok(insert)
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
