//! Request-scoped DataLoaders: nested fields batch their lookups into one query per type.
//!
//! A loader batches the keys requested within its window, which under load is not always a
//! whole page: a request that is descheduled halfway through a page splits the batch. Lists
//! therefore *prefetch*: after reading a page, the list resolver hands the loaders of the
//! nested fields the client selected every key of the page at once (`prefetch_*`), and the
//! per-row resolvers then find their rows in the loaders' caches. The window remains for
//! everything not prefetched. It is a tokio sleep (async-graphql's `tokio-timer` feature):
//! without it, async-graphql times the window on async-io's helper thread, whose every
//! expiry is two more hand-offs between threads for each loader of each request.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, ErrorExtensions};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::auth::{Actor, CallerRows};
use crate::db::{select_prefixed, Db, Prefixed, ReadRow, Shapes};
use crate::error::AppError;

/// Entities keyed by an `i64` id.
pub trait HasId: EntityTrait {
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> i64;
    /// The caller's row of this entity, if authentication read it.
    fn of_caller(_caller: &CallerRows) -> Option<Self::Model> {
        None
    }
}

impl HasId for entity::partner::Entity {
    fn id_column() -> Self::Column {
        entity::partner::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
    }
    fn of_caller(caller: &CallerRows) -> Option<Self::Model> {
        caller.partner.clone()
    }
}

impl HasId for entity::user::Entity {
    fn id_column() -> Self::Column {
        entity::user::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
    }
    fn of_caller(caller: &CallerRows) -> Option<Self::Model> {
        Some(caller.user.clone())
    }
}

impl HasId for entity::tier::Entity {
    fn id_column() -> Self::Column {
        entity::tier::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
    }
    fn of_caller(caller: &CallerRows) -> Option<Self::Model> {
        caller.tier.clone()
    }
}

macro_rules! has_id {
    ($($module:ident),*) => {$(
        impl HasId for entity::$module::Entity {
            fn id_column() -> Self::Column {
                entity::$module::Column::Id
            }
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
        }
    )*};
}

has_id!(
    course,
    certification_program,
    deal_registration,
    account,
    product,
    content_file,
    api_key,
    lead_routing_rule,
    contact,
    content
);

/// A one-to-many relation that nested list fields load in batches: rows of `Entity`
/// grouped by the parent id in `column`.
pub trait Grouping: Send + Sync + 'static {
    type Entity: EntityTrait;
    fn column() -> <Self::Entity as EntityTrait>::Column;
    fn key(model: &<Self::Entity as EntityTrait>::Model) -> i64;
    /// Order within a group.
    fn sort(rows: &mut [<Self::Entity as EntityTrait>::Model]);
    /// The caller's group (by parent id), if authentication read it.
    fn of_caller(_caller: &CallerRows) -> Option<(i64, Vec<<Self::Entity as EntityTrait>::Model>)> {
        None
    }
}

pub struct GroupLoader<G> {
    db: Db,
    grouping: PhantomData<fn() -> G>,
}

impl<G: Grouping> Loader<i64> for GroupLoader<G>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<<G::Entity as EntityTrait>::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = G::Entity::find()
            .filter(G::column().is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(AppError::from(e)))?;
        let mut groups: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            groups.entry(G::key(&row)).or_default().push(row);
        }
        for rows in groups.values_mut() {
            G::sort(rows);
        }
        Ok(groups)
    }
}

impl<G: Grouping> Made<i64> for GroupLoader<G>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    fn new(db: &Db) -> Self {
        GroupLoader {
            db: db.clone(),
            grouping: PhantomData,
        }
    }
    fn of_caller(caller: &CallerRows) -> Vec<(i64, Self::Value)> {
        G::of_caller(caller).into_iter().collect()
    }
}

/// The rows of `G` under `parent`, through the request's loader.
pub async fn load_group<G: Grouping>(
    ctx: &Context<'_>,
    parent: i64,
) -> async_graphql::Result<Vec<<G::Entity as EntityTrait>::Model>>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let loader = loader::<i64, GroupLoader<G>>(ctx).await?;
    Ok(loader
        .load_one(parent)
        .await
        .map_err(|e| e.extend())?
        .unwrap_or_default())
}

pub struct DomainsByPartner;
impl Grouping for DomainsByPartner {
    type Entity = entity::partner_domain::Entity;
    fn column() -> entity::partner_domain::Column {
        entity::partner_domain::Column::PartnerId
    }
    fn key(model: &entity::partner_domain::Model) -> i64 {
        model.partner_id
    }
    fn sort(rows: &mut [entity::partner_domain::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct VerticalsByPartner;
impl Grouping for VerticalsByPartner {
    type Entity = entity::partner_vertical::Entity;
    fn column() -> entity::partner_vertical::Column {
        entity::partner_vertical::Column::PartnerId
    }
    fn key(model: &entity::partner_vertical::Model) -> i64 {
        model.partner_id
    }
    fn sort(rows: &mut [entity::partner_vertical::Model]) {
        rows.sort_by_key(|r| r.id);
    }
    fn of_caller(caller: &CallerRows) -> Option<(i64, Vec<entity::partner_vertical::Model>)> {
        let partner = caller.partner.as_ref()?;
        Some((partner.id, caller.verticals.clone()))
    }
}

pub struct OnboardingByPartner;
impl Grouping for OnboardingByPartner {
    type Entity = entity::onboarding_item::Entity;
    fn column() -> entity::onboarding_item::Column {
        entity::onboarding_item::Column::PartnerId
    }
    fn key(model: &entity::onboarding_item::Model) -> i64 {
        model.partner_id
    }
    fn sort(rows: &mut [entity::onboarding_item::Model]) {
        rows.sort_by_key(|r| (r.position, r.id));
    }
}

pub struct RatingsByProspect;
impl Grouping for RatingsByProspect {
    type Entity = entity::prospect_rating::Entity;
    fn column() -> entity::prospect_rating::Column {
        entity::prospect_rating::Column::ProspectId
    }
    fn key(model: &entity::prospect_rating::Model) -> i64 {
        model.prospect_id
    }
    fn sort(rows: &mut [entity::prospect_rating::Model]) {
        rows.sort_by_key(|r| r.criterion_id);
    }
}

pub struct CoursesByProgram;
impl Grouping for CoursesByProgram {
    type Entity = entity::certification_program_course::Entity;
    fn column() -> entity::certification_program_course::Column {
        entity::certification_program_course::Column::ProgramId
    }
    fn key(model: &entity::certification_program_course::Model) -> i64 {
        model.program_id
    }
    fn sort(rows: &mut [entity::certification_program_course::Model]) {
        rows.sort_by_key(|r| r.course_id);
    }
}

pub struct CompletionsByUser;
impl Grouping for CompletionsByUser {
    type Entity = entity::course_completion::Entity;
    fn column() -> entity::course_completion::Column {
        entity::course_completion::Column::UserId
    }
    fn key(model: &entity::course_completion::Model) -> i64 {
        model.user_id
    }
    fn sort(rows: &mut [entity::course_completion::Model]) {
        rows.sort_by_key(|r| r.course_id);
    }
}

/// The products of registrations, by registration, with their links in one statement (a
/// page's products are a few distinct rows: read through the links they cost one join, not
/// a second round trip).
pub struct RegistrationProducts {
    db: Db,
}

impl Loader<i64> for RegistrationProducts {
    type Value = Vec<entity::product::Model>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        use entity::{deal_registration_product as link, product};
        // Its text by the number of registrations: built once per count, not per request.
        static TEXTS: crate::db::Shapes = crate::db::Shapes::new();
        let build = || {
            let through_links: sea_orm::RelationDef = link::Entity::belongs_to(product::Entity)
                .from(link::Column::ProductId)
                .to(product::Column::Id)
                .into();
            product::Entity::find()
                .join_rev(sea_orm::JoinType::InnerJoin, through_links)
                .column_as(link::Column::RegistrationId, "registration_id")
                .filter(link::Column::RegistrationId.is_in(keys.iter().copied()))
                .into_query()
        };
        let fail = |e: sea_orm::DbErr| Arc::new(AppError::from(e));
        let values = keys.iter().map(|&k| k.into()).collect();
        let backend = self.db.get_database_backend();
        let statement = TEXTS
            .statement(backend, keys.len(), values, build)
            .map_err(fail)?;
        let rows = self.db.query_all(statement).await.map_err(fail)?;
        let mut groups: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            let registration: i64 = row.try_get("", "registration_id").map_err(fail)?;
            let product = product::Model::read_row(&Prefixed::new(&row, "")).map_err(fail)?;
            groups.entry(registration).or_default().push(product);
        }
        for products in groups.values_mut() {
            products.sort_by_key(|p| p.id);
        }
        Ok(groups)
    }
}

impl Made<i64> for RegistrationProducts {
    fn new(db: &Db) -> Self {
        RegistrationProducts { db: db.clone() }
    }
}

pub struct HistoryByRegistration;
impl Grouping for HistoryByRegistration {
    type Entity = entity::deal_history::Entity;
    fn column() -> entity::deal_history::Column {
        entity::deal_history::Column::RegistrationId
    }
    fn key(model: &entity::deal_history::Model) -> i64 {
        model.registration_id
    }
    fn sort(rows: &mut [entity::deal_history::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct CommentsByRegistration;
impl Grouping for CommentsByRegistration {
    type Entity = entity::deal_comment::Entity;
    fn column() -> entity::deal_comment::Column {
        entity::deal_comment::Column::RegistrationId
    }
    fn key(model: &entity::deal_comment::Model) -> i64 {
        model.registration_id
    }
    fn sort(rows: &mut [entity::deal_comment::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct DomainsByAccount;
impl Grouping for DomainsByAccount {
    type Entity = entity::account_domain::Entity;
    fn column() -> entity::account_domain::Column {
        entity::account_domain::Column::AccountId
    }
    fn key(model: &entity::account_domain::Model) -> i64 {
        model.account_id
    }
    fn sort(rows: &mut [entity::account_domain::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct LabelsByContent;
impl Grouping for LabelsByContent {
    type Entity = entity::content_label::Entity;
    fn column() -> entity::content_label::Column {
        entity::content_label::Column::ContentId
    }
    fn key(model: &entity::content_label::Model) -> i64 {
        model.content_id
    }
    fn sort(rows: &mut [entity::content_label::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct AudienceByContent;
impl Grouping for AudienceByContent {
    type Entity = entity::content_audience::Entity;
    fn column() -> entity::content_audience::Column {
        entity::content_audience::Column::ContentId
    }
    fn key(model: &entity::content_audience::Model) -> i64 {
        model.content_id
    }
    fn sort(rows: &mut [entity::content_audience::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct ByIdLoader<E> {
    db: Db,
    entity: PhantomData<fn() -> E>,
}

impl<E> ByIdLoader<E> {
    pub fn new(db: Db) -> Self {
        ByIdLoader {
            db,
            entity: PhantomData,
        }
    }
}

impl<E> Loader<i64> for ByIdLoader<E>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, Self::Error> {
        let rows = E::find()
            .filter(E::id_column().is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(AppError::from(e)))?;
        Ok(rows.into_iter().map(|row| (E::id_of(&row), row)).collect())
    }
}

impl<E> Made<i64> for ByIdLoader<E>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    fn new(db: &Db) -> Self {
        ByIdLoader::new(db.clone())
    }
    fn of_caller(caller: &CallerRows) -> Vec<(i64, E::Model)> {
        E::of_caller(caller)
            .map(|row| (E::id_of(&row), row))
            .into_iter()
            .collect()
    }
}

/// A loader the request makes on its first use.
pub trait Made<K>: Loader<K> + Sized
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn new(db: &Db) -> Self;
    /// What authentication already read, put in the new loader's cache.
    fn of_caller(_caller: &CallerRows) -> Vec<(K, Self::Value)> {
        vec![]
    }
}

/// One request's loaders, each made on its first use: a request uses a few of the
/// twenty-odd kinds, and making every kind for every request was a few percent of a small
/// request's CPU. Each loader starts with the rows authentication read about the caller.
pub struct Loaders {
    db: Db,
    window: Duration,
    caller: Option<Arc<Actor>>,
    made: Arc<Mutex<MadeLoaders>>,
}

type MadeLoaders = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// Drops a request's loaders and what they cached: a subscription's events each read their
/// objects afresh.
#[derive(Clone)]
pub struct Forget(Arc<Mutex<MadeLoaders>>);

impl Forget {
    pub fn forget(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Loaders {
    pub fn forgetter(&self) -> Forget {
        Forget(self.made.clone())
    }

    fn existing<L: Any + Send + Sync>(&self) -> Option<Arc<L>> {
        let made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let any = made.get(&TypeId::of::<L>())?.clone();
        any.downcast::<L>().ok()
    }

    /// The request's loader of type `T`, made now if this is its first use.
    pub async fn get<K, T>(&self) -> Arc<DataLoader<T, HashMapCache>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        T: Made<K>,
    {
        if let Some(loader) = self.existing::<DataLoader<T, HashMapCache>>() {
            return loader;
        }
        let fresh = Arc::new(
            DataLoader::with_cache(T::new(&self.db), tokio::spawn, HashMapCache::default())
                .delay(self.window),
        );
        if let Some(rows) = self.caller.as_ref().and_then(|actor| actor.rows.as_ref()) {
            fresh.feed_many(T::of_caller(rows)).await;
        }
        // Two fields of one request may make the same kind at once: the first one kept wins.
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = made
            .entry(TypeId::of::<DataLoader<T, HashMapCache>>())
            .or_insert(fresh)
            .clone();
        kept.downcast()
            .expect("loaders are kept under their own type")
    }
}

/// The request's loader of type `T`.
pub async fn loader<K, T>(
    ctx: &Context<'_>,
) -> async_graphql::Result<Arc<DataLoader<T, HashMapCache>>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    T: Made<K>,
{
    Ok(ctx.data::<Loaders>()?.get::<K, T>().await)
}

/// Adds the request's loaders to one GraphQL request; `caller` is who makes it.
/// `window`: how long a loader waits for more keys before it queries.
pub fn attach(
    request: async_graphql::Request,
    db: &Db,
    window: Duration,
    caller: Option<Arc<Actor>>,
) -> async_graphql::Request {
    request
        .data(Loaders {
            db: db.clone(),
            window,
            caller,
            made: Arc::default(),
        })
        .data(crate::recruitment::ProfileCache::default())
}

/// Loads one row through the request's loader for `E`.
pub async fn load_one<E>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<E::Model>>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    let loader = loader::<i64, ByIdLoader<E>>(ctx).await?;
    loader.load_one(id).await.map_err(|e| e.extend())
}

/// Loads several rows through the request's loader for `E` in one batch, in `ids` order
/// (missing ones skipped).
pub async fn load_many<E>(ctx: &Context<'_>, ids: &[i64]) -> async_graphql::Result<Vec<E::Model>>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    let loader = loader::<i64, ByIdLoader<E>>(ctx).await?;
    let mut found = loader
        .load_many(ids.iter().copied())
        .await
        .map_err(|e| e.extend())?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Partners with their tiers, read in one statement (a list that shows both) and put in the
/// request's partner and tier loaders.
pub async fn prefetch_partners_with_tiers(
    ctx: &Context<'_>,
    ids: &[i64],
) -> async_graphql::Result<()> {
    use entity::{partner, tier};
    let db = ctx.data::<Db>()?;
    let fail = |e: sea_orm::DbErr| AppError::from(e).extend();
    let statement = PARTNERS_WITH_TIERS
        .statement(
            db.get_database_backend(),
            ids.len(),
            ids.iter().map(|&id| id.into()).collect(),
            || partners_with_tiers(ids),
        )
        .map_err(fail)?;
    let rows = db.query_all(statement).await.map_err(fail)?;
    let (mut partners, mut tiers) = (Vec::with_capacity(rows.len()), Vec::new());
    for row in rows {
        let partner = partner::Model::read_row(&Prefixed::new(&row, "")).map_err(fail)?;
        let tier = Prefixed::new(&row, TIER_PREFIX);
        if tier.named::<Option<i64>>("id").map_err(fail)?.is_some() {
            tiers.push(tier::Model::read_row(&tier).map_err(fail)?);
        }
        partners.push(partner);
    }
    loader::<i64, ByIdLoader<tier::Entity>>(ctx)
        .await?
        .feed_many(tiers.into_iter().map(|tier| (tier.id, tier)))
        .await;
    loader::<i64, ByIdLoader<partner::Entity>>(ctx)
        .await?
        .feed_many(partners.into_iter().map(|partner| (partner.id, partner)))
        .await;
    Ok(())
}

/// The tier's columns' prefix in `partners_with_tiers`.
const TIER_PREFIX: &str = "t_";

/// `partners_with_tiers`' text by number of ids, built once per page size.
static PARTNERS_WITH_TIERS: Shapes = Shapes::new();

/// The partners' columns under their own names, their tiers' prefixed, both read from the
/// driver's row (`db::ReadRow`): sea-orm's own joined select and reading formatted every
/// prefixed column's name (a page of 50 partners: 2,000 names, 7% of a review queue's CPU
/// on PostgreSQL).
fn partners_with_tiers(ids: &[i64]) -> sea_orm::sea_query::SelectStatement {
    use entity::{partner, tier};
    use sea_orm::sea_query::{Expr, Query};
    let mut query = Query::select();
    select_prefixed::<partner::Entity>(&mut query, "");
    select_prefixed::<tier::Entity>(&mut query, TIER_PREFIX);
    query
        .from(partner::Entity)
        .left_join(
            tier::Entity,
            Expr::col((tier::Entity, tier::Column::Id))
                .equals((partner::Entity, partner::Column::TierId)),
        )
        .and_where(Expr::col((partner::Entity, partner::Column::Id)).is_in(ids.iter().copied()));
    query
}

/// Loads every group of `G` under `parents` in one batch (see the module docs).
pub async fn prefetch_groups<G: Grouping>(
    ctx: &Context<'_>,
    parents: &[i64],
) -> async_graphql::Result<Vec<<G::Entity as EntityTrait>::Model>>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let loader = loader::<i64, GroupLoader<G>>(ctx).await?;
    Ok(loader
        .load_many(parents.iter().copied())
        .await
        .map_err(|e| e.extend())?
        .into_values()
        .flatten()
        .collect())
}

/// Hands the request's loader of `G` groups read with something else (each group in
/// `G`'s order), so that the fields reading them run no statement of their own.
pub async fn feed_groups<G: Grouping>(
    ctx: &Context<'_>,
    groups: Vec<(i64, Vec<<G::Entity as EntityTrait>::Model>)>,
) -> async_graphql::Result<()>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let loader = loader::<i64, GroupLoader<G>>(ctx).await?;
    let sorted = groups.into_iter().map(|(parent, mut rows)| {
        G::sort(&mut rows);
        (parent, rows)
    });
    loader.feed_many(sorted).await;
    Ok(())
}

/// The distinct values of `ids`, for a batch.
pub fn distinct(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

pub struct InfluencesByOpportunity;
impl Grouping for InfluencesByOpportunity {
    type Entity = entity::opportunity_influence::Entity;
    fn column() -> entity::opportunity_influence::Column {
        entity::opportunity_influence::Column::OpportunityId
    }
    fn key(model: &entity::opportunity_influence::Model) -> i64 {
        model.opportunity_id
    }
    fn sort(rows: &mut [entity::opportunity_influence::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct HistoryByOpportunity;
impl Grouping for HistoryByOpportunity {
    type Entity = entity::direct_opportunity_history::Entity;
    fn column() -> entity::direct_opportunity_history::Column {
        entity::direct_opportunity_history::Column::OpportunityId
    }
    fn key(model: &entity::direct_opportunity_history::Model) -> i64 {
        model.opportunity_id
    }
    fn sort(rows: &mut [entity::direct_opportunity_history::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct HistoryByLead;
impl Grouping for HistoryByLead {
    type Entity = entity::lead_history::Entity;
    fn column() -> entity::lead_history::Column {
        entity::lead_history::Column::LeadId
    }
    fn key(model: &entity::lead_history::Model) -> i64 {
        model.lead_id
    }
    fn sort(rows: &mut [entity::lead_history::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct ProductsByLead;
impl Grouping for ProductsByLead {
    type Entity = entity::lead_product::Entity;
    fn column() -> entity::lead_product::Column {
        entity::lead_product::Column::LeadId
    }
    fn key(model: &entity::lead_product::Model) -> i64 {
        model.lead_id
    }
    fn sort(rows: &mut [entity::lead_product::Model]) {
        rows.sort_by_key(|r| r.product_id);
    }
}

pub struct InfluencesByContact;
impl Grouping for InfluencesByContact {
    type Entity = entity::contact_influence::Entity;
    fn column() -> entity::contact_influence::Column {
        entity::contact_influence::Column::ContactId
    }
    fn key(model: &entity::contact_influence::Model) -> i64 {
        model.contact_id
    }
    fn sort(rows: &mut [entity::contact_influence::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct RelationshipsByContact;
impl Grouping for RelationshipsByContact {
    type Entity = entity::contact_relationship::Entity;
    fn column() -> entity::contact_relationship::Column {
        entity::contact_relationship::Column::ContactId
    }
    fn key(model: &entity::contact_relationship::Model) -> i64 {
        model.contact_id
    }
    fn sort(rows: &mut [entity::contact_relationship::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

/// A contact's direct reports.
pub struct ReportsByContact;
impl Grouping for ReportsByContact {
    type Entity = entity::contact::Entity;
    fn column() -> entity::contact::Column {
        entity::contact::Column::ReportsToId
    }
    fn key(model: &entity::contact::Model) -> i64 {
        model.reports_to_id.unwrap_or_default()
    }
    fn sort(rows: &mut [entity::contact::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}

pub struct TargetsByPlan;
impl Grouping for TargetsByPlan {
    type Entity = entity::joint_business_plan_target::Entity;
    fn column() -> entity::joint_business_plan_target::Column {
        entity::joint_business_plan_target::Column::PlanId
    }
    fn key(model: &entity::joint_business_plan_target::Model) -> i64 {
        model.plan_id
    }
    fn sort(rows: &mut [entity::joint_business_plan_target::Model]) {
        rows.sort_by(|a, b| (&a.quarter, &a.currency).cmp(&(&b.quarter, &b.currency)));
    }
}

pub struct HistoryByPlan;
impl Grouping for HistoryByPlan {
    type Entity = entity::joint_business_plan_history::Entity;
    fn column() -> entity::joint_business_plan_history::Column {
        entity::joint_business_plan_history::Column::PlanId
    }
    fn key(model: &entity::joint_business_plan_history::Model) -> i64 {
        model.plan_id
    }
    fn sort(rows: &mut [entity::joint_business_plan_history::Model]) {
        rows.sort_by_key(|r| r.id);
    }
}
