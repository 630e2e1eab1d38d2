//! Conflicts of many registrations in one batch: a list of registrations with their
//! conflicts costs the same number of queries for five rows as for fifty. An active
//! registration whose kept score (`conflict_scores`) is below the bands has none, and is
//! not compared again: most of a review queue's page, whose comparisons were most of its
//! cost.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::deal_registration;

use super::candidates::{bands, conflicts_of_registrations, Conflict};
use super::service::ACTIVE;
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
            let possible_at = match keys.iter().any(|k| k.0.conflict_score.is_some()) {
                true => bands(&self.db).await?.possible_at,
                false => f64::NEG_INFINITY,
            };
            let (quiet, compared): (Vec<&ProbeKey>, Vec<&ProbeKey>) = keys.iter().partition(|k| {
                ACTIVE.contains(&k.0.status)
                    && k.0.conflict_score.is_some_and(|score| score < possible_at)
            });
            let registrations: Vec<deal_registration::Model> =
                compared.iter().map(|k| (*k.0).clone()).collect();
            let found = conflicts_of_registrations(&self.db, &registrations).await?;
            let mut answers: HashMap<ProbeKey, Vec<Conflict>> =
                compared.into_iter().cloned().zip(found).collect();
            answers.extend(quiet.into_iter().map(|k| (k.clone(), Vec::new())));
            Ok::<_, AppError>(answers)
        };
        load.await.map_err(Arc::new)
    }
}

impl Made<ProbeKey> for ConflictLoader {
    fn new(db: &Db) -> Self {
        ConflictLoader { db: db.clone() }
    }
}
