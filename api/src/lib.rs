//! PartnerGraph: a GraphQL API backend for partner relationship management.
//!
//! `build_state` + `http::router` give the whole server; `main.rs` only parses the CLI.

// The merged query root's resolver nests one future per domain; with the metrics, health
// and opportunities roots, laying it out in a release build passes the default 128.
#![recursion_limit = "256"]

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod deals;
pub mod demo;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod incentives;
pub mod integrations;
pub mod leads;
pub mod loaders;
pub mod metrics;
pub mod money;
pub mod opportunities;
pub mod partners;
pub mod plans;
pub mod recruitment;
pub mod relay;
pub mod reports;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod tiers;
pub mod training;
pub mod users;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::AuthService;
use crate::config::{AuthConfig, HttpConfig, Limits};
use crate::db::Db;
use crate::error::AppResult;
use crate::state::AppState;

/// Everything a router needs, built once at start-up.
pub async fn build_state(
    pool: DatabaseConnection,
    auth: AuthConfig,
    limits: Limits,
    http: HttpConfig,
    files: content::FileStore,
) -> AppResult<AppState> {
    let db = Db::serving(pool);
    // Registrations and accounts written before the matcher's keys existed (or by `seed`).
    deals::keys::prepare_keys(&db).await?;
    // And the conflict scores `hasConflicts` filters on.
    deals::conflict_scores::assess_unassessed(&db).await?;
    let statements = db.statements();
    let auth = Arc::new(AuthService::new(&db, auth).await?);
    let bus = integrations::bus::EventBus::new(db.clone());
    let webhooks = Arc::new(http.webhooks.clone());
    let imports = Arc::new(tokio::sync::Notify::new());
    let rate = Arc::new(http::ratelimit::RateLimiter::new(
        db.clone(),
        http.rate_limits.clone(),
    ));
    let schema_for = |validation| {
        schema::build_schema(
            db.clone(),
            auth.clone(),
            files.clone(),
            &limits,
            bus.clone(),
            webhooks.clone(),
            imports.clone(),
            validation,
        )
    };
    let schema = schema_for(async_graphql::ValidationMode::Strict);
    let validated_schema = schema_for(async_graphql::ValidationMode::Fast);
    let types = http::types::TypeTable::from_sdl(&schema.sdl());
    Ok(AppState {
        db,
        schema,
        validated_schema,
        validated: Arc::default(),
        auth,
        limits: Arc::new(limits),
        files,
        statements,
        documents: Arc::default(),
        types: Arc::new(types),
        persisted: Arc::default(),
        metrics: Arc::default(),
        bus,
        rate,
        imports,
        http: Arc::new(http),
    })
}
