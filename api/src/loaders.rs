//! Request-scoped DataLoaders: nested fields batch their lookups into one query per type.
//!
//! A loader batches the keys requested within its window, which under load is not always a
//! whole page: a request that is descheduled halfway through a page splits the batch. Lists
//! therefore *prefetch*: after reading a page, the list resolver hands the loaders of the
//! nested fields the client selected every key of the page at once (`prefetch_*`), and the
//! per-row resolvers then find their rows in the loaders' caches. The window remains for
//! everything not prefetched.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, ErrorExtensions};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::CallerRows;
use crate::error::AppError;

/// Entities keyed by an `i64` id.
pub trait HasId: EntityTrait {
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> i64;
}

impl HasId for entity::partner::Entity {
    fn id_column() -> Self::Column {
        entity::partner::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
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
    user,
    tier,
    course,
    certification_program,
    deal_registration,
    account,
    product,
    content_file
);

/// A one-to-many relation that nested list fields load in batches: rows of `Entity`
/// grouped by the parent id in `column`.
pub trait Grouping: Send + Sync + 'static {
    type Entity: EntityTrait;
    fn column() -> <Self::Entity as EntityTrait>::Column;
    fn key(model: &<Self::Entity as EntityTrait>::Model) -> i64;
    /// Order within a group.
    fn sort(rows: &mut [<Self::Entity as EntityTrait>::Model]);
}

pub struct GroupLoader<G> {
    db: DatabaseConnection,
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

pub type GroupedLoader<G> = DataLoader<GroupLoader<G>, HashMapCache>;

fn grouped_loader<G: Grouping>(db: &DatabaseConnection, window: Duration) -> GroupedLoader<G>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(
        GroupLoader {
            db: db.clone(),
            grouping: PhantomData,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
    .delay(window)
}

/// The rows of `G` under `parent`, through the request's loader.
pub async fn load_group<G: Grouping>(
    ctx: &Context<'_>,
    parent: i64,
) -> async_graphql::Result<Vec<<G::Entity as EntityTrait>::Model>>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let loader = ctx.data::<GroupedLoader<G>>()?;
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

pub struct ProductsByRegistration;
impl Grouping for ProductsByRegistration {
    type Entity = entity::deal_registration_product::Entity;
    fn column() -> entity::deal_registration_product::Column {
        entity::deal_registration_product::Column::RegistrationId
    }
    fn key(model: &entity::deal_registration_product::Model) -> i64 {
        model.registration_id
    }
    fn sort(rows: &mut [entity::deal_registration_product::Model]) {
        rows.sort_by_key(|r| r.product_id);
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
    db: DatabaseConnection,
    entity: PhantomData<fn() -> E>,
}

impl<E> ByIdLoader<E> {
    pub fn new(db: DatabaseConnection) -> Self {
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

pub type EntityLoader<E> = DataLoader<ByIdLoader<E>, HashMapCache>;

fn entity_loader<E>(db: &DatabaseConnection, window: Duration) -> EntityLoader<E>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(
        ByIdLoader::new(db.clone()),
        tokio::spawn,
        HashMapCache::default(),
    )
    .delay(window)
}

/// Adds a fresh set of loaders to one GraphQL request, holding already the rows
/// authentication read about the caller (`caller`).
/// `window`: how long a loader waits for more keys before it queries.
pub async fn attach(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    window: Duration,
    caller: Option<&CallerRows>,
) -> async_graphql::Request {
    let users = entity_loader::<entity::user::Entity>(db, window);
    let partners = entity_loader::<entity::partner::Entity>(db, window);
    let tiers = entity_loader::<entity::tier::Entity>(db, window);
    let verticals = grouped_loader::<VerticalsByPartner>(db, window);
    if let Some(rows) = caller {
        users.feed_one(rows.user.id, rows.user.clone()).await;
        if let Some(partner) = &rows.partner {
            partners.feed_one(partner.id, partner.clone()).await;
            verticals.feed_one(partner.id, rows.verticals.clone()).await;
        }
        if let Some(tier) = &rows.tier {
            tiers.feed_one(tier.id, tier.clone()).await;
        }
    }
    request
        .data(partners)
        .data(users)
        .data(tiers)
        .data(entity_loader::<entity::course::Entity>(db, window))
        .data(entity_loader::<entity::certification_program::Entity>(
            db, window,
        ))
        .data(entity_loader::<entity::deal_registration::Entity>(
            db, window,
        ))
        .data(entity_loader::<entity::account::Entity>(db, window))
        .data(entity_loader::<entity::product::Entity>(db, window))
        .data(entity_loader::<entity::content_file::Entity>(db, window))
        .data(grouped_loader::<DomainsByPartner>(db, window))
        .data(verticals)
        .data(grouped_loader::<OnboardingByPartner>(db, window))
        .data(grouped_loader::<RatingsByProspect>(db, window))
        .data(grouped_loader::<CoursesByProgram>(db, window))
        .data(grouped_loader::<CompletionsByUser>(db, window))
        .data(grouped_loader::<ProductsByRegistration>(db, window))
        .data(grouped_loader::<DomainsByAccount>(db, window))
        .data(grouped_loader::<HistoryByRegistration>(db, window))
        .data(grouped_loader::<CommentsByRegistration>(db, window))
        .data(grouped_loader::<LabelsByContent>(db, window))
        .data(grouped_loader::<AudienceByContent>(db, window))
        .data(crate::deals::conflict_loader(db, window))
        .data(crate::recruitment::ProfileCache::default())
}

/// Loads one row through the request's loader for `E`.
pub async fn load_one<E>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<E::Model>>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    let loader = ctx.data::<EntityLoader<E>>()?;
    loader.load_one(id).await.map_err(|e| e.extend())
}

/// Loads several rows through the request's loader for `E` in one batch, in `ids` order
/// (missing ones skipped).
pub async fn load_many<E>(ctx: &Context<'_>, ids: &[i64]) -> async_graphql::Result<Vec<E::Model>>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    let loader = ctx.data::<EntityLoader<E>>()?;
    let mut found = loader
        .load_many(ids.iter().copied())
        .await
        .map_err(|e| e.extend())?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Loads every group of `G` under `parents` in one batch (see the module docs).
pub async fn prefetch_groups<G: Grouping>(
    ctx: &Context<'_>,
    parents: &[i64],
) -> async_graphql::Result<Vec<<G::Entity as EntityTrait>::Model>>
where
    <G::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let loader = ctx.data::<GroupedLoader<G>>()?;
    Ok(loader
        .load_many(parents.iter().copied())
        .await
        .map_err(|e| e.extend())?
        .into_values()
        .flatten()
        .collect())
}

/// The distinct values of `ids`, for a batch.
pub fn distinct(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
