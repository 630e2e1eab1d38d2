//! Lead distribution: leads from the vendor's marketing routed to partners by rules in
//! priority order and a weighted fallback, shown redacted until the partner accepts within
//! its time, declined or lapsed onto the next eligible partner, and converted into deal
//! registrations through the normal registration path.

pub mod figures;
mod graphql;
pub mod policy;
pub mod respond;
pub mod routing;
pub mod rules;
pub mod service;
pub mod stages;
mod types;

pub use graphql::{find_visible, LeadMutation, LeadQuery};
pub use types::{Lead, LeadRoutingRule};

pub const NODE_KIND: &str = "Lead";
pub const RULE_KIND: &str = "LeadRoutingRule";
