//! Direct opportunities: a direct rep's own deals on its accounts, and the partners that
//! influenced them (referral, co-sell, implementation...). A won one with partner influence
//! is the influenced revenue of `channelMetrics`; without, direct revenue.

pub mod policy;
pub mod service;
pub mod stages;
mod types;

pub use types::{DirectOpportunity, OpportunityMutation, OpportunityQuery, NODE_KIND};
