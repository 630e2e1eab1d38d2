use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::{
    Context, Enum, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::DealStatus as StoredStatus;
use entity::{account, deal_comment, deal_history, deal_registration, product};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::candidates::Conflict;
use super::conflicts::{shown, DealConflict};
use super::loader::ConflictLoader;
use super::loader::ProbeKey;
use super::policy::{self, sees_internal};
use super::registrations::DealRegistrationFilter;
use super::service::{self, ActionInput, RegistrationInput};
use super::workflow::{self, Action};
use crate::auth::{actor, Actor, Role, RoleGuard};
use crate::db::{Db, Fast};
use crate::error::AppError;
use crate::loaders::{
    distinct, load_group, load_many, load_one, loader, prefetch_groups,
    prefetch_partners_with_tiers, CommentsByRegistration, DomainsByAccount, HistoryByRegistration,
    RegistrationProducts,
};
use crate::money::{Money, MoneyInput};
use crate::partners::Partner;
use crate::relay::{
    global_id, local_id, paginate, paginate_loaded, paginate_ordered_as, ConnectionFields,
    PageArgs, RelayConnection, UserError, UserErrorCode,
};
use crate::users::User;

pub const NODE_KIND: &str = "DealRegistration";
pub const PRODUCT_KIND: &str = "Product";
pub const ACCOUNT_KIND: &str = "Account";
pub(super) const MANAGERS: &[Role] = &[Role::ChannelManager];
const STAFF: &[Role] = &[Role::ChannelManager, Role::DirectRep];

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DealStatus")]
pub enum DealStatus {
    Draft,
    Submitted,
    UnderReview,
    Approved,
    Rejected,
    Returned,
    Withdrawn,
    Cancelled,
    Won,
    Lost,
    Expired,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DealType")]
pub enum DealType {
    New,
    Renewal,
    Expansion,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "entity::enums::AccountOwnership")]
pub enum AccountOwnership {
    /// A named account reserved for the vendor's direct rep.
    Direct,
    Channel,
    Open,
}

pub struct Product(pub product::Model);

#[Object]
impl Product {
    pub async fn id(&self) -> ID {
        global_id(PRODUCT_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct Account(pub account::Model);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        global_id(ACCOUNT_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn domains(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let rows = load_group::<DomainsByAccount>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(|d| d.domain).collect())
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn ownership(&self) -> AccountOwnership {
        self.0.ownership.into()
    }
    async fn is_customer(&self) -> bool {
        self.0.is_customer
    }
    /// The direct rep who owns it.
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.owner_id).await
    }
}

pub struct DealHistoryEntry(deal_history::Model);

#[Object]
impl DealHistoryEntry {
    #[graphql(name = "fromStatus")]
    async fn previous_status(&self) -> Option<DealStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to_status(&self) -> DealStatus {
        self.0.to_status.into()
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.actor_id).await
    }
    /// How the change came in, when not through a person's session: `API key CRM sync`.
    async fn via(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        via_key(ctx, self.0.api_key_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// `API key <name>` for a change made through the API key `key`.
async fn via_key(ctx: &Context<'_>, key: Option<i64>) -> async_graphql::Result<Option<String>> {
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(load_one::<entity::api_key::Entity>(ctx, key)
        .await?
        .map(|k| format!("API key {}", k.name)))
}

pub struct DealComment(deal_comment::Model);

#[Object]
impl DealComment {
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Internal notes are visible to vendor staff only.
    async fn internal(&self) -> bool {
        self.0.internal
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        crate::users::user_by_id(ctx, self.0.author_id).await
    }
    /// How the comment came in, when not through a person's session: `API key CRM sync`.
    async fn via(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        via_key(ctx, self.0.api_key_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct EndCustomer {
    pub name: String,
    pub domain: Option<String>,
    pub country: Option<String>,
}

/// A partner's registration of a deal.
pub struct DealRegistration(pub deal_registration::Model);

impl DealRegistration {
    async fn all_conflicts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Conflict>> {
        Ok(loader::<ProbeKey, ConflictLoader>(ctx)
            .await?
            .load_one(ProbeKey(Arc::new(self.0.clone())))
            .await
            .map_err(|e| e.extend())?
            .unwrap_or_default())
    }
}

#[Object]
impl DealRegistration {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        Ok(load_one::<entity::partner::Entity>(ctx, self.0.partner_id)
            .await?
            .map(Partner))
    }
    async fn status(&self) -> DealStatus {
        self.0.status.into()
    }
    /// Statuses the caller can move this registration to.
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DealStatus>> {
        let actor = actor(ctx)?;
        Ok(match policy::side(&actor) {
            Some(side) => workflow::allowed_targets(self.0.status, side)
                .into_iter()
                .map(Into::into)
                .collect(),
            None => vec![],
        })
    }
    /// Fields the partner may change now (in `RETURNED`, only those the reviewer listed).
    async fn editable_fields(&self) -> Vec<String> {
        let listed: Vec<String> = self
            .0
            .editable_fields
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        workflow::editable_fields(self.0.status, &listed)
    }
    async fn customer(&self) -> EndCustomer {
        EndCustomer {
            name: self.0.customer_name.clone(),
            // Stored in ASCII (punycode); shown as people write it.
            domain: self
                .0
                .customer_domain
                .as_deref()
                .map(|domain| idna::domain_to_unicode(domain).0),
            country: self.0.customer_country.clone(),
        }
    }
    async fn products(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Product>> {
        let products = loader::<i64, RegistrationProducts>(ctx)
            .await?
            .load_one(self.0.id)
            .await
            .map_err(|e| e.extend())?;
        Ok(products.into_iter().flatten().map(Product).collect())
    }
    async fn estimated_value(&self) -> Money {
        Money::from_minor(self.0.estimated_value_minor, &self.0.currency)
    }
    async fn expected_close_date(&self) -> NaiveDate {
        self.0.expected_close_date
    }
    async fn deal_type(&self) -> DealType {
        self.0.deal_type.into()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The partner's own CRM id.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.0.approved_at
    }
    /// Until when the approved registration is protected.
    async fn protected_until(&self) -> Option<DateTime<Utc>> {
        self.0.protected_until
    }
    /// Days of extension the partner asked for, awaiting a decision.
    async fn pending_extension_days(&self) -> Option<i32> {
        self.0.extension_request_days
    }
    async fn closed_amount(&self) -> Option<Money> {
        self.0
            .closed_amount_minor
            .map(|m| Money::from_minor(m, &self.0.currency))
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn resubmission_count(&self) -> i32 {
        self.0.resubmission_count
    }
    /// Whether a direct rep contested it.
    async fn contested_at(&self) -> Option<DateTime<Utc>> {
        self.0.contested_at
    }
    /// Collisions with parties that have priority (`MATCH`), with the evidence. A partner
    /// sees one per kind, without scores or evidence.
    async fn conflicts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DealConflict>> {
        let actor = actor(ctx)?;
        Ok(shown(self.all_conflicts(ctx).await?, &actor, false))
    }
    /// Perhaps the same customer (`POSSIBLE`): for the reviewer, blocking nothing. Empty for
    /// partners.
    async fn possible_conflicts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DealConflict>> {
        let actor = actor(ctx)?;
        Ok(shown(self.all_conflicts(ctx).await?, &actor, true))
    }
    /// Every transition, oldest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<DealHistoryEntry>> {
        let rows = load_group::<HistoryByRegistration>(ctx, self.0.id).await?;
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |h| h.id,
            DealHistoryEntry,
        )
        .extend()
    }
    /// Comments; partners see only those not marked internal.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<DealComment>> {
        let actor = actor(ctx)?;
        let mut rows = load_group::<CommentsByRegistration>(ctx, self.0.id).await?;
        if !sees_internal(&actor) {
            rows.retain(|c| !c.internal);
        }
        paginate_loaded(
            rows,
            &PageArgs::new(first, after, last, before),
            |c| c.id,
            DealComment,
        )
        .extend()
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A `totalCount` of every registration of `partners`, from the counts the database keeps
/// instead of counting the rows.
pub(super) fn held_by(db: &Db, partners: &BTreeSet<i64>) -> ConnectionFields {
    let db = db.clone();
    let partners: Vec<i64> = partners.iter().copied().collect();
    ConnectionFields::counted_by(move || {
        let db = db.clone();
        let partners = partners.clone();
        Box::pin(async move { service::registrations_held(&db, &partners).await })
    })
}

/// Loads, one batch per kind, what the selected nested fields of a page of registrations
/// read (partner and tier, products, conflicts, history, comments): see `crate::loaders`.
pub(super) async fn prefetch(
    ctx: &Context<'_>,
    page: &RelayConnection<DealRegistration>,
) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let rows: Vec<&deal_registration::Model> = page.edges.iter().map(|e| &e.node.0).collect();
    let ids = distinct(rows.iter().map(|r| r.id));
    let partners = async {
        let partners = distinct(rows.iter().map(|r| r.partner_id));
        if node.field("partner").field("tier").exists() {
            prefetch_partners_with_tiers(ctx, &partners).await?;
        } else if node.field("partner").exists() {
            load_many::<entity::partner::Entity>(ctx, &partners).await?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let products = async {
        if node.field("products").exists() {
            loader::<i64, RegistrationProducts>(ctx)
                .await?
                .load_many(ids.iter().copied())
                .await
                .map_err(|e| e.extend())?;
        }
        Ok(())
    };
    let conflicts = async {
        if node.field("conflicts").exists() || node.field("possibleConflicts").exists() {
            let keys = rows.iter().map(|r| ProbeKey(Arc::new((*r).clone())));
            loader::<ProbeKey, ConflictLoader>(ctx)
                .await?
                .load_many(keys)
                .await
                .map_err(|e| e.extend())?;
        }
        Ok(())
    };
    let history = async {
        if node.field("history").exists() {
            prefetch_groups::<HistoryByRegistration>(ctx, &ids).await?;
        }
        Ok(())
    };
    let comments = async {
        if node.field("comments").exists() {
            prefetch_groups::<CommentsByRegistration>(ctx, &ids).await?;
        }
        Ok(())
    };
    futures_util::try_join!(partners, products, conflicts, history, comments)?;
    Ok(())
}

#[derive(Default)]
pub struct DealQuery;

#[Object]
impl DealQuery {
    /// Registrations the caller may see, newest first, narrowed by `filter`.
    async fn deal_registrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DealRegistrationFilter>,
    ) -> async_graphql::Result<RelayConnection<DealRegistration>> {
        let page = PageArgs::new(first, after, last, before);
        super::registrations::list(ctx, page, filter, None).await
    }

    /// Registrations awaiting a decision: those with a competing registration first, then
    /// the oldest submission first (channel managers).
    #[graphql(guard = "RoleGuard(MANAGERS)")]
    async fn deal_review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<DealRegistration>> {
        let db = ctx.data::<Db>()?;
        // Lanes are kept by the service (see `lanes`): competing registrations come first.
        let select = deal_registration::Entity::find()
            .filter(deal_registration::Column::ReviewLane.is_not_null())
            .order_by_asc(deal_registration::Column::ReviewLane)
            .order_by_asc(deal_registration::Column::SubmittedAt)
            .order_by_asc(deal_registration::Column::Id);
        let page = paginate_ordered_as(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            |Fast(model)| DealRegistration(model),
        )
        .await
        .extend()?;
        prefetch(ctx, &page).await?;
        Ok(page)
    }

    /// The product catalogue.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Product>> {
        actor(ctx)?;
        let db = ctx.data::<Db>()?;
        paginate(
            db,
            product::Entity::find(),
            product::Column::Id,
            &PageArgs::new(first, after, last, before),
            |p| p.id,
            Product,
        )
        .await
        .extend()
    }

    /// Customer accounts for the rules of engagement (vendor staff).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Account>> {
        let db = ctx.data::<Db>()?;
        paginate(
            db,
            account::Entity::find(),
            account::Column::Id,
            &PageArgs::new(first, after, last, before),
            |a| a.id,
            Account,
        )
        .await
        .extend()
    }
}

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
