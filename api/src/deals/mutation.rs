//! The registrations' mutations (`DealMutation`): registering, editing, the workflow's
//! actions, comments, extensions, products and accounts, with their inputs and payloads.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::DealStatus as StoredStatus;
use entity::{deal_registration, product};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};

use super::loader::ConflictLoader;
use super::loader::ProbeKey;
use super::policy::{self, sees_internal};
use super::service::{self, ActionInput, RegistrationInput};
use super::types::{
    Account, AccountOwnership, DealRegistration, DealType, Product, MANAGERS, NODE_KIND,
    PRODUCT_KIND,
};
use super::workflow::Action;
use crate::auth::{actor, Actor, Role, RoleGuard};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::loader;
use crate::money::MoneyInput;
use crate::relay::{local_id, UserError, UserErrorCode};

#[derive(InputObject, Clone)]
pub struct RegisterDealInput {
    pub customer_name: String,
    pub customer_domain: Option<String>,
    pub customer_country: Option<String>,
    pub product_ids: Vec<ID>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<NaiveDate>,
    pub deal_type: Option<DealType>,
    pub description: Option<String>,
    /// The partner's own CRM id.
    pub external_id: Option<String>,
    /// Replaying a call with the same key returns the first result and creates nothing.
    pub idempotency_key: Option<String>,
    /// Submit at once instead of saving a draft.
    #[graphql(default)]
    pub submit: bool,
}

fn registration_input(input: &RegisterDealInput) -> RegistrationInput {
    RegistrationInput {
        customer_name: input.customer_name.clone(),
        customer_domain: input.customer_domain.clone(),
        customer_country: input.customer_country.clone(),
        product_ids: input
            .product_ids
            .iter()
            .map(|id| local_id(id, PRODUCT_KIND).unwrap_or(-1))
            .collect(),
        estimated_value: input
            .estimated_value
            .as_ref()
            .map(|m| (m.amount.to_string(), m.currency.clone())),
        expected_close_date: input.expected_close_date,
        deal_type: input
            .deal_type
            .map(|t| sea_orm::ActiveEnum::to_value(&entity::enums::DealType::from(t))),
        description: input.description.clone(),
        external_id: input.external_id.clone(),
    }
}

#[derive(InputObject)]
pub struct UpdateDealRegistrationInput {
    pub id: ID,
    /// The `version` you read.
    pub version: i32,
    pub customer_name: Option<String>,
    pub customer_domain: Option<String>,
    pub customer_country: Option<String>,
    pub product_ids: Option<Vec<ID>>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<NaiveDate>,
    pub deal_type: Option<DealType>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct DealActionInput {
    pub id: ID,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct ApproveDealInput {
    pub id: ID,
    /// Overrides the tier's protection: 0 (none), 30, 60, 90 or 120 days.
    pub protection_days: Option<i32>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct ReturnDealInput {
    pub id: ID,
    pub reason: Option<String>,
    /// The fields the partner may change before resubmitting.
    pub editable_fields: Vec<String>,
}

#[derive(InputObject)]
pub struct MarkDealWonInput {
    pub id: ID,
    pub closed_amount: MoneyInput,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct RequestExtensionInput {
    pub id: ID,
    /// 1-90 more days.
    pub days: i32,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct DecideExtensionInput {
    pub id: ID,
    pub approve: bool,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct AddDealCommentInput {
    pub id: ID,
    pub body: String,
    /// Internal notes are for vendor staff only (partners cannot write them).
    #[graphql(default)]
    pub internal: bool,
}

#[derive(InputObject)]
pub struct CreateProductInput {
    pub name: String,
    pub sku: String,
}

#[derive(InputObject)]
pub struct CreateAccountInput {
    pub name: String,
    #[graphql(default)]
    pub domains: Vec<String>,
    pub country: Option<String>,
    pub ownership: AccountOwnership,
    #[graphql(default)]
    pub is_customer: bool,
    /// The direct rep owning a `DIRECT` account.
    pub owner_id: Option<ID>,
}

#[derive(SimpleObject, Default)]
pub struct DealRegistrationPayload {
    pub deal_registration: Option<DealRegistration>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct ProductPayload {
    pub product: Option<Product>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject, Default)]
pub struct AccountPayload {
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

fn payload(result: Result<deal_registration::Model, Vec<UserError>>) -> DealRegistrationPayload {
    match result {
        Ok(model) => DealRegistrationPayload {
            deal_registration: Some(DealRegistration(model)),
            user_errors: vec![],
        },
        Err(user_errors) => DealRegistrationPayload {
            deal_registration: None,
            user_errors,
        },
    }
}

fn not_found() -> DealRegistrationPayload {
    payload(Err(UserError::one(
        "id",
        UserErrorCode::NotFound,
        "no such registration",
    )))
}

/// The registration if the caller may see it.
async fn visible(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<(std::sync::Arc<Actor>, deal_registration::Model)>> {
    let actor = actor(ctx)?;
    let db = ctx.data::<Db>()?;
    let Some(local) = local_id(id, NODE_KIND) else {
        return Ok(None);
    };
    let found = policy::visible_select(db, &actor)
        .await
        .extend()?
        .filter(deal_registration::Column::Id.eq(local))
        .one(db)
        .await
        .map_err(AppError::from)
        .extend()?;
    Ok(found.map(|f| (actor, f)))
}

async fn perform(
    ctx: &Context<'_>,
    id: &ID,
    action: Action,
    input: ActionInput,
) -> async_graphql::Result<DealRegistrationPayload> {
    let Some((actor, registration)) = visible(ctx, id).await? else {
        return Ok(not_found());
    };
    let Some(side) = policy::side(&actor) else {
        return Err(AppError::forbidden().extend());
    };
    let db = ctx.data::<Db>()?;
    Ok(payload(
        service::act(db, &actor, side, registration, action, input)
            .await
            .extend()?,
    ))
}

fn reason(reason: Option<String>) -> ActionInput {
    ActionInput {
        reason,
        ..Default::default()
    }
}

const PARTNERS: &[Role] = &[Role::Partner];
const DEALERS: &[Role] = &[Role::Partner, Role::ChannelManager];

#[derive(Default)]
pub struct DealMutation;

#[Object]
impl DealMutation {
    /// Registers a deal for the caller's organisation (partner users).
    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn register_deal(
        &self,
        ctx: &Context<'_>,
        input: RegisterDealInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let fields = registration_input(&input);
        let registered = service::register_assessed(
            db,
            &actor,
            fields,
            input.estimated_value,
            input.idempotency_key,
            input.submit,
        )
        .await
        .extend()?;
        let registered = match registered {
            Ok(registered) => registered,
            Err(errors) => return Ok(payload(Err(errors))),
        };
        // The conflicts the submission's check found are the response's: asking the matcher
        // again was half of a submission's database time.
        if let Some(conflicts) = registered.conflicts {
            let key = ProbeKey(Arc::new(registered.registration.clone()));
            loader::<ProbeKey, ConflictLoader>(ctx)
                .await?
                .feed_one(key, conflicts)
                .await;
        }
        Ok(payload(Ok(registered.registration)))
    }

    /// Edits a draft, or the fields a reviewer listed on a returned registration.
    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn update_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: UpdateDealRegistrationInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let Some((_, registration)) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let db = ctx.data::<Db>()?;
        let changes = service::RegistrationChanges {
            customer_name: input.customer_name,
            customer_domain: input.customer_domain,
            customer_country: input.customer_country,
            product_ids: input.product_ids.map(|ids| {
                ids.iter()
                    .map(|id| local_id(id, PRODUCT_KIND).unwrap_or(-1))
                    .collect()
            }),
            estimated_value: input.estimated_value,
            expected_close_date: input.expected_close_date,
            deal_type: input
                .deal_type
                .map(|t| sea_orm::ActiveEnum::to_value(&entity::enums::DealType::from(t))),
            description: input.description,
        };
        Ok(payload(
            service::update(db, registration, input.version, changes)
                .await
                .extend()?,
        ))
    }

    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn submit_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::Submit, reason(input.reason)).await
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn start_deal_review(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::StartReview, reason(input.reason)).await
    }

    /// Approves and protects a registration, unless another party holds or has priority
    /// on the customer and product.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn approve_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: ApproveDealInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let action = ActionInput {
            reason: input.reason,
            protection_days: input.protection_days,
            ..Default::default()
        };
        perform(ctx, &input.id, Action::Approve, action).await
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn reject_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::Reject, reason(input.reason)).await
    }

    /// Sends a registration back to the partner, naming the fields to fix.
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn return_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: ReturnDealInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let action = ActionInput {
            reason: input.reason,
            editable_fields: input.editable_fields,
            ..Default::default()
        };
        perform(ctx, &input.id, Action::Return, action).await
    }

    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn withdraw_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::Withdraw, reason(input.reason)).await
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn cancel_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::Cancel, reason(input.reason)).await
    }

    #[graphql(guard = "RoleGuard(DEALERS)")]
    async fn mark_deal_won(
        &self,
        ctx: &Context<'_>,
        input: MarkDealWonInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let action = ActionInput {
            closed_amount: Some(input.closed_amount),
            closed_at: input.closed_at,
            ..Default::default()
        };
        perform(ctx, &input.id, Action::MarkWon, action).await
    }

    #[graphql(guard = "RoleGuard(DEALERS)")]
    async fn mark_deal_lost(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        perform(ctx, &input.id, Action::MarkLost, reason(input.reason)).await
    }

    /// Asks for more protection time on an approved registration.
    #[graphql(guard = "RoleGuard(PARTNERS)")]
    async fn request_protection_extension(
        &self,
        ctx: &Context<'_>,
        input: RequestExtensionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let Some((_, registration)) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        if registration.status != StoredStatus::Approved || registration.protected_until.is_none() {
            return Ok(payload(Err(UserError::one(
                "id",
                UserErrorCode::IllegalTransition,
                "only a protected, approved registration can be extended",
            ))));
        }
        if !(1..=90).contains(&input.days) {
            return Ok(payload(Err(UserError::one(
                "days",
                UserErrorCode::Invalid,
                "ask for 1 to 90 days",
            ))));
        }
        let db = ctx.data::<Db>()?;
        let mut model: deal_registration::ActiveModel = registration.into();
        model.extension_request_days = Set(Some(input.days));
        model.extension_request_reason = Set(input.reason);
        model.updated_at = Set(Utc::now());
        Ok(payload(Ok(model
            .update(db)
            .await
            .map_err(AppError::from)
            .extend()?)))
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn decide_protection_extension(
        &self,
        ctx: &Context<'_>,
        input: DecideExtensionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let Some((actor, registration)) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let (Some(days), Some(until)) = (
            registration.extension_request_days,
            registration.protected_until,
        ) else {
            return Ok(payload(Err(UserError::one(
                "id",
                UserErrorCode::RuleViolation,
                "no extension is pending",
            ))));
        };
        let db = ctx.data::<Db>()?;
        let note = format!(
            "protection extension of {days} days {}",
            if input.approve { "granted" } else { "denied" }
        );
        let mut model: deal_registration::ActiveModel = registration.clone().into();
        if input.approve {
            model.protected_until = Set(Some(until + chrono::Duration::days(days.into())));
        }
        model.extension_request_days = Set(None);
        model.extension_request_reason = Set(None);
        model.updated_at = Set(Utc::now());
        let updated = model.update(db).await.map_err(AppError::from).extend()?;
        let body = match input.reason {
            Some(reason) => format!("{note}: {reason}"),
            None => note,
        };
        service::add_comment(db, &actor, registration.id, &body, false)
            .await
            .extend()?;
        Ok(payload(Ok(updated)))
    }

    /// Adds a comment; `internal` notes are for vendor staff only.
    async fn add_deal_comment(
        &self,
        ctx: &Context<'_>,
        input: AddDealCommentInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let Some((actor, registration)) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        if input.internal && !sees_internal(&actor) {
            return Err(AppError::forbidden().extend());
        }
        if input.body.trim().is_empty() {
            return Ok(payload(Err(UserError::one(
                "body",
                UserErrorCode::Required,
                "must not be blank",
            ))));
        }
        let db = ctx.data::<Db>()?;
        service::add_comment(db, &actor, registration.id, &input.body, input.internal)
            .await
            .extend()?;
        Ok(payload(Ok(registration)))
    }

    /// A direct rep contests a registration that touches one of its accounts.
    #[graphql(guard = "RoleGuard(&[Role::DirectRep])")]
    async fn contest_deal_registration(
        &self,
        ctx: &Context<'_>,
        input: DealActionInput,
    ) -> async_graphql::Result<DealRegistrationPayload> {
        let Some((actor, registration)) = visible(ctx, &input.id).await? else {
            return Ok(not_found());
        };
        let db = ctx.data::<Db>()?;
        let body = format!(
            "Contested by the account's direct rep: {}",
            input.reason.unwrap_or_else(|| "no reason given".into())
        );
        service::add_comment(db, &actor, registration.id, &body, true)
            .await
            .extend()?;
        let mut model: deal_registration::ActiveModel = registration.into();
        model.contested_at = Set(Some(Utc::now()));
        Ok(payload(Ok(model
            .update(db)
            .await
            .map_err(AppError::from)
            .extend()?)))
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        let db = ctx.data::<Db>()?;
        if input.name.trim().is_empty() || input.sku.trim().is_empty() {
            let field = if input.name.trim().is_empty() {
                "name"
            } else {
                "sku"
            };
            return Ok(ProductPayload {
                product: None,
                user_errors: UserError::one(field, UserErrorCode::Required, "must not be blank"),
            });
        }
        let created = product::ActiveModel {
            name: Set(input.name.trim().to_owned()),
            sku: Set(input.sku.trim().to_uppercase()),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await;
        Ok(match created {
            Ok(model) => ProductPayload {
                product: Some(Product(model)),
                user_errors: vec![],
            },
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                ProductPayload {
                    product: None,
                    user_errors: UserError::one(
                        "name",
                        UserErrorCode::Taken,
                        "a product with this name or SKU exists",
                    ),
                }
            }
            Err(err) => return Err(AppError::from(err).extend()),
        })
    }

    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn create_account(
        &self,
        ctx: &Context<'_>,
        input: CreateAccountInput,
    ) -> async_graphql::Result<AccountPayload> {
        let db = ctx.data::<Db>()?;
        create_account(db, input).await.extend()
    }
}

pub async fn create_account(
    db: &Db,
    input: CreateAccountInput,
) -> crate::error::AppResult<AccountPayload> {
    let new = service::NewAccount {
        name: input.name,
        domains: input.domains,
        country: input.country,
        ownership: input.ownership.into(),
        is_customer: input.is_customer,
        owner_id: input
            .owner_id
            .as_ref()
            .map(|id| local_id(id, crate::users::NODE_KIND).unwrap_or(-1)),
    };
    Ok(match service::create_account(db, new).await? {
        Ok(model) => AccountPayload {
            account: Some(Account(model)),
            user_errors: vec![],
        },
        Err(user_errors) => AccountPayload {
            account: None,
            user_errors,
        },
    })
}
