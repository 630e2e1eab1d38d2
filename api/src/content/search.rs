//! Full-text search, native on each database behind one function: SQLite's FTS5 (BM25
//! ranking, porter stemming) and PostgreSQL's tsvector (`ts_rank`, English stemming).
//! Title matches weigh most, then tags, then the body.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::rules::{fts5_query, plain_query};
use crate::error::{AppError, AppResult};

/// Ids of the contents matching `text`, best first, at most `limit`.
pub async fn ranked_ids(db: &impl ConnectionTrait, text: &str, limit: u64) -> AppResult<Vec<i64>> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => {
            let Some(words) = plain_query(text) else {
                return Ok(vec![]);
            };
            Statement::from_sql_and_values(
                backend,
                "SELECT id FROM contents WHERE search_vector @@ plainto_tsquery('english', $1) \
                 ORDER BY ts_rank(search_vector, plainto_tsquery('english', $1)) DESC, id LIMIT $2",
                [words.into(), (limit as i64).into()],
            )
        }
        _ => {
            let Some(query) = fts5_query(text) else {
                return Ok(vec![]);
            };
            Statement::from_sql_and_values(
                backend,
                "SELECT rowid AS id FROM content_search WHERE content_search MATCH ? \
                 ORDER BY bm25(content_search, 10.0, 1.0, 5.0), rowid LIMIT ?",
                [query.into(), (limit as i64).into()],
            )
        }
    };
    let rows = db.query_all(statement).await?;
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(AppError::from))
        .collect()
}
