//! Signed webhooks (Standard Webhooks): endpoints, the deliveries of outbox events to them,
//! and the worker that sends them.

pub mod deliveries;
pub mod endpoints;
pub mod ssrf;
mod types;
pub mod worker;

pub use types::{WebhookEndpoint, WebhookMutation, WebhookQuery, NODE_KIND};
pub use worker::Dispatcher;
