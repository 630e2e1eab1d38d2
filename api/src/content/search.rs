//! Full-text search, native on each database behind one function: SQLite's FTS5 (BM25
//! ranking, porter stemming) and PostgreSQL's tsvector (`ts_rank`, English stemming).
//! Title matches weigh most, then tags, then the body.

use entity::content;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{DbBackend, Order, QueryFilter, QueryOrder, QueryTrait, Select, Value};

use super::rules::{fts5_query, plain_query};
use crate::db;

/// A user's search text, as the database's own query.
pub enum Search {
    Tsvector(String),
    Fts5(String),
    /// No word left to search for: nothing matches.
    Nothing,
}

impl Search {
    pub fn of(backend: DbBackend, text: &str) -> Search {
        let query = match backend {
            DbBackend::Postgres => plain_query(text).map(Search::Tsvector),
            _ => fts5_query(text).map(Search::Fts5),
        };
        query.unwrap_or(Search::Nothing)
    }

    /// `select` narrowed to the matches and ordered best match first (then by id, so the
    /// order is total). Ranking, the caller's filters and paging are one query: every match
    /// the caller may see can be paged to, and only the page's rows leave the database.
    pub fn best_matches(&self, select: Select<content::Entity>) -> Select<content::Entity> {
        match self {
            Search::Tsvector(words) => ranked_by_tsvector(select, words),
            Search::Fts5(query) => ranked_by_fts5(select, query),
            Search::Nothing => select.filter(db::nothing()),
        }
    }

    /// The values [`Search::best_matches`] binds: those ahead of every filter of the
    /// select it narrows (in its joins), and those after them (its own filter and order).
    pub fn values(&self) -> (Vec<Value>, Vec<Value>) {
        match self {
            Search::Tsvector(words) => (vec![], vec![words.into(), words.into()]),
            Search::Fts5(query) => (vec![query.into()], vec![]),
            Search::Nothing => (vec![], vec![]),
        }
    }

    /// Tells apart the texts [`Search::best_matches`] makes.
    pub fn shape(&self) -> usize {
        match self {
            Search::Tsvector(_) => 1,
            Search::Fts5(_) => 2,
            Search::Nothing => 3,
        }
    }
}

/// (sea-query reads `$1` as the expression's first value when building for PostgreSQL,
/// `?` when building for SQLite.)
fn ranked_by_tsvector(select: Select<content::Entity>, words: &str) -> Select<content::Entity> {
    select
        .filter(Expr::cust_with_values(
            "contents.search_vector @@ plainto_tsquery('english', $1)",
            [words],
        ))
        .order_by(
            Expr::cust_with_values(
                "ts_rank(contents.search_vector, plainto_tsquery('english', $1))",
                [words],
            ),
            Order::Desc,
        )
        .order_by_asc(content::Column::Id)
}

/// FTS5's rank is only available in a query on the search table itself, so the matches
/// and their BM25 scores join the contents as a subquery.
fn ranked_by_fts5(mut select: Select<content::Entity>, query: &str) -> Select<content::Entity> {
    let hits = Alias::new("hits");
    let matches = Query::select()
        .expr_as(Expr::cust("rowid"), Alias::new("id"))
        .expr_as(
            Expr::cust("bm25(content_search, 10.0, 1.0, 5.0)"),
            Alias::new("score"),
        )
        .from(Alias::new("content_search"))
        .and_where(Expr::cust_with_values("content_search MATCH ?", [query]))
        .to_owned();
    QueryTrait::query(&mut select).join_subquery(
        JoinType::InnerJoin,
        matches,
        hits.clone(),
        Expr::col((hits.clone(), Alias::new("id"))).equals((content::Entity, content::Column::Id)),
    );
    select
        .order_by(Expr::col((hits, Alias::new("score"))), Order::Asc)
        .order_by_asc(content::Column::Id)
}
