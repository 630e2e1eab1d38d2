//! Conflicts of many registrations in one batch: a list of registrations with their
//! conflicts costs the same number of queries for five rows as for fifty.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::deal_registration;

use super::candidates::{conflicts_of_listed, Conflict};
use crate::db::Db;
use crate::error::AppError;
use crate::loaders::Made;

/// A registration the caller already holds, keyed by its id: the loader needs the row
/// itself, and reading it again by id would cost a query per batch.
#[derive(Clone)]
pub struct ProbeKey(pub Arc<deal_registration::Model>);

impl PartialEq for ProbeKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ProbeKey {}

impl Hash for ProbeKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

pub struct ConflictLoader {
    db: Db,
}

impl Loader<ProbeKey> for ConflictLoader {
    type Value = Vec<Conflict>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ProbeKey],
    ) -> Result<HashMap<ProbeKey, Vec<Conflict>>, Self::Error> {
        let load = async {
            let registrations: Vec<deal_registration::Model> =
                keys.iter().map(|k| (*k.0).clone()).collect();
            let found = conflicts_of_listed(&self.db, &registrations).await?;
            Ok::<_, AppError>(keys.iter().cloned().zip(found).collect())
        };
        load.await.map_err(Arc::new)
    }
}

impl Made<ProbeKey> for ConflictLoader {
    fn new(db: &Db) -> Self {
        ConflictLoader { db: db.clone() }
    }
}
