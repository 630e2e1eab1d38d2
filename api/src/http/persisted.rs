//! Automatic persisted queries, Apollo's protocol: `extensions.persistedQuery { version: 1,
//! sha256Hash }`. A hash alone runs the document registered under it, or answers
//! `PERSISTED_QUERY_NOT_FOUND`; a hash with its document checks the hash and registers it.
//! Documents live in the database, so a hash registered on one replica works on every
//! other; each replica keeps the ones it has seen in memory.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use entity::persisted_query;
use lru::LruCache;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};

use crate::db::Db;
use crate::error::AppResult;

/// Hashes kept in memory per replica.
const CAPACITY: usize = 1024;
/// Longer documents still run, but are not registered: the table cannot be filled with
/// megabyte documents by anonymous callers.
pub const MAX_PERSISTED_TEXT: usize = 64 * 1024;
/// Documents kept at most (a client's whole set is tens to hundreds). Past it new documents
/// still run but are not registered, so anonymous callers cannot grow the table without end:
/// at most this many × `MAX_PERSISTED_TEXT` bytes.
pub const MAX_PERSISTED_QUERIES: u64 = 10_000;

pub struct PersistedQueries {
    known: Mutex<LruCache<String, Arc<str>>>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries {
            known: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).expect("capacity is not zero"),
            )),
        }
    }
}

/// Documents are registered under the lower-case hex SHA-256 of their text, as Apollo's
/// clients compute it.
pub use crate::auth::tokens::sha256_hex;

impl PersistedQueries {
    fn remember(&self, hash: &str, query: Arc<str>) {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(hash.to_owned(), query);
    }

    /// The document registered under `hash`, on any replica.
    pub async fn find(&self, db: &Db, hash: &str) -> AppResult<Option<Arc<str>>> {
        let cached = self
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(row) = persisted_query::Entity::find_by_id(hash.to_owned())
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let query: Arc<str> = row.query.into();
        self.remember(hash, query.clone());
        Ok(Some(query))
    }

    /// Registers `query` under `hash` (already checked to be its SHA-256).
    pub async fn register(&self, db: &Db, hash: &str, query: &str) -> AppResult<()> {
        if query.len() > MAX_PERSISTED_TEXT {
            return Ok(());
        }
        let known = self
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(hash);
        if known {
            return Ok(());
        }
        if persisted_query::Entity::find().count(db).await? >= MAX_PERSISTED_QUERIES {
            tracing::warn!(
                limit = MAX_PERSISTED_QUERIES,
                "persisted queries are full; a new document ran without being registered"
            );
            return Ok(());
        }
        persisted_query::Entity::insert(persisted_query::ActiveModel {
            sha256: Set(hash.to_owned()),
            query: Set(query.to_owned()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(persisted_query::Column::Sha256)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        self.remember(hash, query.into());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lower_case_hex_sha256() {
        assert_eq!(
            sha256_hex("{__typename}"),
            "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
        );
    }
}
