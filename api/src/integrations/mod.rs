//! Partners' own systems: API keys and their scopes, rate limits, signed webhooks fed by the
//! event outbox, live subscriptions and bulk imports.

pub mod api_keys;
pub mod keys;
pub mod scopes;
pub mod text;

pub use api_keys::{ApiKey, ApiKeyMutation, ApiKeyQuery};
pub mod audience;
pub mod bus;
pub mod imports;
pub mod subscriptions;
pub mod webhooks;

pub use subscriptions::SubscriptionRoot;

/// Starts this replica's background work for integrations: the webhook worker and the bulk import worker. Every replica runs them; their claims keep work from being done
/// twice.
pub fn spawn_workers(state: &crate::state::AppState) -> crate::error::AppResult<()> {
    let dispatcher = webhooks::Dispatcher::new(state.db.clone(), state.http.webhooks.clone())?
        .with_metrics(&state.metrics);
    dispatcher.spawn(state.bus.clone());
    imports::service::spawn(state.db.clone(), state.imports.clone());
    Ok(())
}
