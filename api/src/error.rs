//! One error type for the whole API, with stable machine-readable codes.
//!
//! Resolvers end service calls with `.extend()?` (async-graphql's `ResultExt`): a bare `?`
//! would go through async-graphql's blanket `From<Display>` and lose `extensions.code`.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    Conflict(String),
    /// Too many tries; `retry_after` seconds until the next may succeed.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// The database cannot be reached; the request may be retried.
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable(String),
    /// The database has no room left for a write (disk or file size limit); the write's
    /// transaction was rolled back whole.
    #[error("the database has no space left; nothing was written")]
    OutOfSpace(String),
    /// Details are logged, never shown to the client.
    #[error("internal server error")]
    Internal(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput(_) => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::OutOfSpace(_) => "INSUFFICIENT_STORAGE",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn unauthenticated() -> Self {
        AppError::Unauthenticated("authentication required".into())
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("you are not allowed to do this".into())
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(what.to_string())
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let detail = detail.to_string();
        tracing::error!(error = %detail, "internal error");
        AppError::Internal(detail)
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                AppError::RateLimited { retry_after, .. } => ext.set("retryAfter", *retry_after),
                AppError::Unavailable(_) => ext.set("retryAfter", UNAVAILABLE_RETRY_AFTER),
                _ => {}
            }
        })
    }
}

/// Seconds a client is asked to wait while the database is unreachable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// Whether `err` says the database could not be reached (down, restarting, refusing
/// connections, or every connection busy past the acquire timeout), rather than that it
/// refused a statement: the request may succeed if retried.
pub fn is_unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Tls(_) | Sqlx::Protocol(_) => true,
        // PostgreSQL's connection exceptions (08…) and shutdowns (57P01-57P03).
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// Whether the database refused a write for want of space: SQLite's `SQLITE_FULL` (13: the
/// disk, or the file's size limit), PostgreSQL's `disk_full` (53100).
pub fn is_out_of_space(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(Sqlx::Database(db)))
        | DbErr::Query(RuntimeErr::SqlxError(Sqlx::Database(db))) => db
            .code()
            .is_some_and(|code| code == "13" || code == "53100"),
        _ => false,
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_out_of_space(&err) {
            tracing::error!(error = %describe_db_error(&err), "database out of space");
            return AppError::OutOfSpace(describe_db_error(&err));
        }
        if is_unreachable(&err) {
            tracing::warn!(error = %describe_db_error(&err), "database unreachable");
            return AppError::Unavailable(describe_db_error(&err));
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("a record with these values already exists".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                AppError::BadUserInput("a referenced record does not exist".into())
            }
            _ => AppError::internal(describe_db_error(&err)),
        }
    }
}

fn describe_db_error(err: &DbErr) -> String {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            format!("database: {e}")
        }
        other => format!("database: {other}"),
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;

    #[test]
    fn an_unreachable_database_is_unavailable_not_internal() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let down = DbErr::Conn(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Io(refused)));
        assert!(is_unreachable(&down));
        assert_eq!(AppError::from(down).code(), "SERVICE_UNAVAILABLE");
        let busy = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert_eq!(AppError::from(busy).code(), "SERVICE_UNAVAILABLE");
        let closed = DbErr::Query(RuntimeErr::SqlxError(sea_orm::sqlx::Error::PoolClosed));
        assert!(is_unreachable(&closed));
        let refused_statement = DbErr::Custom("no such column".into());
        assert!(!is_unreachable(&refused_statement));
        assert_eq!(
            AppError::from(refused_statement).code(),
            "INTERNAL_SERVER_ERROR"
        );
    }

    #[test]
    fn rate_limits_and_outages_tell_clients_when_to_retry() {
        let limited = AppError::RateLimited {
            message: "slow down".into(),
            retry_after: 42,
        }
        .extend();
        let extensions = limited.extensions.expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("RATE_LIMITED"))
        );
        assert_eq!(
            extensions.get("retryAfter"),
            Some(&async_graphql::Value::from(42u64))
        );
    }
}
