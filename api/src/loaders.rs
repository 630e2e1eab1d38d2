//! Request-scoped DataLoaders: nested fields batch their lookups into one query per type.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, ErrorExtensions};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

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

impl HasId for entity::user::Entity {
    fn id_column() -> Self::Column {
        entity::user::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
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

fn entity_loader<E>(db: &DatabaseConnection) -> EntityLoader<E>
where
    E: HasId,
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(
        ByIdLoader::new(db.clone()),
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// Adds a fresh set of loaders to one GraphQL request.
pub fn attach(request: async_graphql::Request, db: &DatabaseConnection) -> async_graphql::Request {
    request
        .data(entity_loader::<entity::partner::Entity>(db))
        .data(entity_loader::<entity::user::Entity>(db))
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
