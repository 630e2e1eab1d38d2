//! Accounts for the rules of engagement (`createAccount`): named direct accounts reserved
//! for their rep, channel and open accounts, existing customers.

use chrono::Utc;
use entity::enums::AccountOwnership;
use entity::{account, account_domain};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use super::matching::{web, Customer};
use super::register::is_unique_violation;
use super::{conflict_scores, keys};
use crate::db::{settle, Db, Outcome};
use crate::error::AppResult;
use crate::partners::rules::normalize_country;
use crate::relay::{UserError, UserErrorCode};

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
        let hosts: Vec<String> = domains.iter().map(|web| web.host.clone()).collect();
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
        keys::index_account(&txn, created.id).await?;
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        conflict_scores::reassess_around_account(
            &txn,
            &created.name,
            created.country.as_deref(),
            &hosts,
        )
        .await?;
        Ok(Ok(created))
    }
    .await;
    settle(txn, result).await
}
