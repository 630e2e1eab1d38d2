//! Full-text search, native on each database behind one function: SQLite's FTS5 (BM25
//! ranking, porter stemming) and PostgreSQL's tsvector (`ts_rank`, English stemming).
//! Title matches weigh most, then tags, then the body.

use entity::content;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{ColumnTrait, DbBackend, Order, QueryFilter, QueryOrder, QueryTrait, Select};

use super::rules::{fts5_query, plain_query};

/// `select` narrowed to the contents matching `text` and ordered best match first (then by
/// id, so the order is total). Ranking, the caller's filters and paging are one query: every
/// match the caller may see can be paged to, and only the page's rows leave the database.
pub fn best_matches(
    backend: DbBackend,
    select: Select<content::Entity>,
    text: &str,
) -> Select<content::Entity> {
    match backend {
        DbBackend::Postgres => match plain_query(text) {
            Some(words) => ranked_by_tsvector(select, words),
            None => nothing(select),
        },
        _ => match fts5_query(text) {
            Some(query) => ranked_by_fts5(select, query),
            None => nothing(select),
        },
    }
}

fn nothing(select: Select<content::Entity>) -> Select<content::Entity> {
    select.filter(content::Column::Id.is_in(Vec::<i64>::new()))
}

/// (sea-query reads `$1` as the expression's first value when building for PostgreSQL,
/// `?` when building for SQLite.)
fn ranked_by_tsvector(select: Select<content::Entity>, words: String) -> Select<content::Entity> {
    select
        .filter(Expr::cust_with_values(
            "contents.search_vector @@ plainto_tsquery('english', $1)",
            [words.clone()],
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
fn ranked_by_fts5(mut select: Select<content::Entity>, query: String) -> Select<content::Entity> {
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
