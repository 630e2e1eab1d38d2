//! Statements whose SQL text is fixed by their shape, built by sea-query once per shape
//! and backend and then bound to each call's values.
//!
//! Building a statement with sea-query (its expression tree, every column's name, then the
//! text) can cost more CPU than the database spends running it: outside HTTP and GraphQL,
//! it was about 40% of the CPU of a rebate statement's queries. A hot read whose text never
//! changes (or changes only with a small count, its "shape") keeps the text instead.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use sea_orm::{DbBackend, DbErr, Statement, StatementBuilder, Value};

/// The texts of one call site's statement, by backend and shape.
pub struct Shapes {
    texts: Mutex<BTreeMap<(u8, usize), String>>,
}

fn backend_key(backend: DbBackend) -> u8 {
    match backend {
        DbBackend::MySql => 0,
        DbBackend::Postgres => 1,
        DbBackend::Sqlite => 2,
    }
}

impl Default for Shapes {
    fn default() -> Self {
        Shapes::new()
    }
}

impl Shapes {
    pub const fn new() -> Self {
        Shapes {
            texts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The statement `build` makes, bound to `values`. `build` runs the first time `shape`
    /// is seen on `backend`, and on every call in debug builds (which the tests run); the
    /// values it binds must be exactly `values`, in order, and its text the same for every
    /// call of one shape. A mismatch is an error, not a wrong query.
    pub fn statement<S: StatementBuilder>(
        &self,
        backend: DbBackend,
        shape: usize,
        values: Vec<Value>,
        build: impl FnOnce() -> S,
    ) -> Result<Statement, DbErr> {
        self.built(backend, shape, values, || build().build(&backend))
    }

    /// `statement` for a statement built by other means than one sea-query statement (a
    /// batch, say); `build` gives it for `backend`.
    pub fn built(
        &self,
        backend: DbBackend,
        shape: usize,
        values: Vec<Value>,
        build: impl FnOnce() -> Statement,
    ) -> Result<Statement, DbErr> {
        let key = (backend_key(backend), shape);
        let known = self
            .texts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        let known = match known {
            Some(sql) if !cfg!(debug_assertions) => {
                return Ok(Statement::from_sql_and_values(backend, sql, values));
            }
            known => known,
        };
        let built = build();
        let bound = built.values.as_ref().map_or(&[][..], |v| v.0.as_slice());
        if bound != values.as_slice() {
            return Err(DbErr::Custom(format!(
                "a fixed-shape statement binds {bound:?} but was given {values:?}: {}",
                built.sql
            )));
        }
        match known {
            Some(sql) if sql != built.sql => Err(DbErr::Custom(format!(
                "a fixed-shape statement's text changed within shape {shape}: {sql} / {}",
                built.sql
            ))),
            Some(_) => Ok(built),
            None => {
                self.texts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, built.sql.clone());
                Ok(built)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};

    fn by_id(id: i64) -> SelectStatement {
        Query::select()
            .column(Alias::new("name"))
            .from(Alias::new("things"))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned()
    }

    #[test]
    fn a_shape_binds_each_calls_values_to_one_text() {
        let shapes = Shapes::new();
        let first = shapes
            .statement(DbBackend::Postgres, 0, vec![1i64.into()], || by_id(1))
            .unwrap();
        let second = shapes
            .statement(DbBackend::Postgres, 0, vec![2i64.into()], || by_id(2))
            .unwrap();
        assert_eq!(first.sql, second.sql);
        assert_eq!(second.values.unwrap().0, vec![Value::from(2i64)]);
    }

    #[test]
    fn values_out_of_step_with_the_statement_are_an_error() {
        let shapes = Shapes::new();
        let wrong = shapes.statement(DbBackend::Sqlite, 0, vec![2i64.into()], || by_id(1));
        assert!(wrong.is_err());
        let missing = shapes.statement(DbBackend::Sqlite, 0, vec![], || by_id(1));
        assert!(missing.is_err());
    }

    // Release builds check a shape only at its first build.
    #[cfg(debug_assertions)]
    #[test]
    fn a_text_that_changes_within_a_shape_is_an_error() {
        let shapes = Shapes::new();
        shapes
            .statement(DbBackend::Sqlite, 0, vec![1i64.into()], || by_id(1))
            .unwrap();
        let other = shapes.statement(DbBackend::Sqlite, 0, vec![1i64.into()], || {
            by_id(1)
                .and_where(Expr::col(Alias::new("x")).is_null())
                .to_owned()
        });
        assert!(other.is_err());
    }
}
