//! The matcher's blocking keys kept in the database (`registration_keys`, `account_keys`):
//! written with a registration's status in its transaction while it is active, with an
//! account when it is created, and made at start-up for rows that have none.

use entity::{account, account_domain, account_key, deal_registration, registration_key, setting};
use std::collections::BTreeSet;

use sea_orm::sea_query::{Alias, Expr, InsertStatement, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::candidates::{account_customers, customer_of};
use super::matching::{blocking_keys, Customer};
use super::postings::store_setting;
use super::service::ACTIVE;
use crate::error::AppResult;

/// The version of `blocking_keys` the stored keys were made by: when it changes, they are
/// made again when the server starts.
const KEYS_VERSION: &str = "4";
const KEYS_VERSION_SETTING: &str = "customer-keys-version";

/// Writes `registration`'s keys if it is active, removes them if not. Call it in the
/// transaction that changed its status or customer.
pub async fn index_registration(
    db: &impl ConnectionTrait,
    registration: &deal_registration::Model,
) -> AppResult<()> {
    registration_key::Entity::delete_many()
        .filter(registration_key::Column::RegistrationId.eq(registration.id))
        .exec(db)
        .await?;
    if ACTIVE.contains(&registration.status) {
        insert_registration_keys(db, std::slice::from_ref(registration)).await?;
    }
    Ok(())
}

/// The INSERT of a new active registration's keys, written with its row (`registration`:
/// an expression of its id), for its customer as stored (`customer_of` of the row).
pub fn new_registration_keys(
    customer: &Customer,
    registration: SimpleExpr,
    partner_id: i64,
) -> Option<InsertStatement> {
    let keys: BTreeSet<String> = blocking_keys(customer).into_iter().collect();
    if keys.is_empty() {
        return None;
    }
    let mut insert = Query::insert();
    insert.into_table(registration_key::Entity).columns([
        registration_key::Column::Key,
        registration_key::Column::RegistrationId,
        registration_key::Column::PartnerId,
    ]);
    for key in keys {
        insert.values_panic([key.into(), registration.clone(), partner_id.into()]);
    }
    Some(insert)
}

async fn insert_registration_keys(
    db: &impl ConnectionTrait,
    registrations: &[deal_registration::Model],
) -> AppResult<()> {
    let rows: Vec<registration_key::ActiveModel> = registrations
        .iter()
        .flat_map(|registration| {
            blocking_keys(&customer_of(registration))
                .into_iter()
                .map(move |key| registration_key::ActiveModel {
                    key: Set(key),
                    registration_id: Set(registration.id),
                    partner_id: Set(Some(registration.partner_id)),
                })
        })
        .collect();
    for chunk in rows.chunks(2_000) {
        registration_key::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    registration_key::Column::Key,
                    registration_key::Column::RegistrationId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Writes the keys of account `id` again (after it is created or its domains change).
pub async fn index_account(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    account_key::Entity::delete_many()
        .filter(account_key::Column::AccountId.eq(id))
        .exec(db)
        .await?;
    let accounts = account::Entity::find_by_id(id).all(db).await?;
    insert_account_keys(db, &accounts).await
}

async fn insert_account_keys(
    db: &impl ConnectionTrait,
    accounts: &[account::Model],
) -> AppResult<()> {
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let domains = account_domain::Entity::find()
        .filter(account_domain::Column::AccountId.is_in(ids))
        .all(db)
        .await?;
    let mut rows: Vec<account_key::ActiveModel> = Vec::new();
    for account in accounts {
        let own: Vec<&str> = domains
            .iter()
            .filter(|d| d.account_id == account.id)
            .map(|d| d.domain.as_str())
            .collect();
        let mut keys: Vec<String> =
            account_customers(&account.name, account.country.as_deref(), &own)
                .iter()
                .flat_map(|customer| blocking_keys(customer))
                .collect();
        keys.sort();
        keys.dedup();
        rows.extend(keys.into_iter().map(|key| account_key::ActiveModel {
            key: Set(key),
            account_id: Set(account.id),
        }));
    }
    for chunk in rows.chunks(2_000) {
        account_key::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([account_key::Column::Key, account_key::Column::AccountId])
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Rows of `owners` that no row of `keys` names (`keys.owner = owners.id`).
fn without_keys(keys: &str, owner: &str, owners: &str) -> SimpleExpr {
    let named = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(keys))
        .and_where(
            Expr::col((Alias::new(keys), Alias::new(owner)))
                .equals((Alias::new(owners), Alias::new("id"))),
        )
        .to_owned();
    Expr::exists(named).not()
}

/// Makes the keys of every active registration and account that has none (rows written
/// before this version, or by `seed`); when the keys' version changed, all of them again.
/// Run at start-up, by any number of replicas at once: a key is written once whoever
/// writes it first.
pub async fn prepare_keys(db: &impl ConnectionTrait) -> AppResult<u64> {
    let stored = setting::Entity::find_by_id(KEYS_VERSION_SETTING)
        .one(db)
        .await?
        .map(|s| s.value);
    if stored.as_deref() != Some(KEYS_VERSION) {
        registration_key::Entity::delete_many().exec(db).await?;
        account_key::Entity::delete_many().exec(db).await?;
    }
    let mut made = 0;
    loop {
        let batch = deal_registration::Entity::find()
            .filter(deal_registration::Column::Status.is_in(ACTIVE))
            .filter(without_keys(
                "registration_keys",
                "registration_id",
                "deal_registrations",
            ))
            .limit(500)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        made += batch.len() as u64;
        insert_registration_keys(db, &batch).await?;
    }
    loop {
        let batch = account::Entity::find()
            .filter(without_keys("account_keys", "account_id", "accounts"))
            .limit(500)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        made += batch.len() as u64;
        insert_account_keys(db, &batch).await?;
    }
    if stored.as_deref() != Some(KEYS_VERSION) {
        store_setting(db, KEYS_VERSION_SETTING, KEYS_VERSION).await?;
    }
    Ok(made)
}
