use std::sync::Arc;

use crate::auth::AuthService;
use crate::config::{HttpConfig, Limits};
use crate::db::Db;
use crate::http::documents::DocumentCache;
use crate::schema::AppSchema;

/// What every request handler shares. Nothing here is per-replica state: a second replica
/// on the same database behaves identically.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub schema: AppSchema,
    /// The same schema validating only complexity, depth and fragment cycles: for requests
    /// `validated` has seen pass in full.
    pub validated_schema: AppSchema,
    /// Requests (document, operation, variables) that passed validation on this replica: a
    /// cache of a pure function of the request.
    pub validated: Arc<crate::http::validated::Validated>,
    pub auth: Arc<AuthService>,
    pub limits: Arc<Limits>,
    pub files: crate::content::FileStore,
    pub statements: crate::db::StatementCounter,
    /// Parsed documents by text: a cache of a pure function, so still nothing a second
    /// replica would answer differently.
    pub documents: Arc<DocumentCache>,
    /// How the front door treats browsers, proxies and anonymous callers.
    pub http: Arc<HttpConfig>,
    /// The schema's declared types, for the checks around execution.
    pub types: Arc<crate::http::types::TypeTable>,
    /// Persisted queries known to this replica (all of them live in the database).
    pub persisted: Arc<crate::http::persisted::PersistedQueries>,
    /// This replica's Prometheus metrics.
    pub metrics: Arc<crate::http::observe::Metrics>,
    /// Committed events as they happen (subscriptions, the webhook worker).
    pub bus: Arc<crate::integrations::bus::EventBus>,
    /// Request budgets (counted here, shared through the database every second).
    pub rate: Arc<crate::http::ratelimit::RateLimiter>,
    /// Wakes this replica's import worker when it accepts a job.
    pub imports: Arc<tokio::sync::Notify>,
}
