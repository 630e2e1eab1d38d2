//! Editing a registration (`updateDealRegistration`, and an import row for a registration
//! it already holds): any field of a `DRAFT`, the listed fields of a `RETURNED` one, checked
//! as a new registration is, at the version the partner read.

use chrono::{NaiveDate, Utc};
use entity::deal_registration;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::keys;
use super::register::{check, deal_type, RegistrationInput};
use super::service::{products_of, reload, replace_products};
use super::workflow;
use crate::db::{settle, Db, Outcome};
use crate::error::AppResult;
use crate::loaders::distinct;
use crate::money::MoneyInput;
use crate::relay::{UserError, UserErrorCode};

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
        keys::index_registration(&txn, &updated).await?;
        Ok(Ok(updated))
    }
    .await;
    settle(txn, result).await
}
