use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{account, deal_comment, deal_history, deal_registration, product};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::candidates::Conflict;
use super::conflicts::{shown, DealConflict};
use super::loader::ConflictLoader;
use super::loader::ProbeKey;
use super::policy::{self, sees_internal};
use super::registrations::DealRegistrationFilter;
use super::service;
use super::workflow;
use crate::auth::{actor, Role, RoleGuard};
use crate::db::Db;
use crate::loaders::{
    distinct, load_group, load_many, load_one, loader, prefetch_groups,
    prefetch_partners_with_tiers, CommentsByRegistration, DomainsByAccount, HistoryByRegistration,
    RegistrationProducts,
};
use crate::money::Money;
use crate::partners::Partner;
use crate::relay::{
    global_id, paginate, paginate_loaded, paginate_ordered_counted, ConnectionFields, PageArgs,
    RelayConnection,
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
        let page = paginate_ordered_counted(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            DealRegistration,
            ctx.look_ahead().field("totalCount").exists(),
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
