//! Program tiers: ranked levels with benefits (deal protection, rebate and MDF eligibility,
//! content entitlement) and criteria; progress towards the next tier; approved changes.

pub mod rules;
pub mod service;
mod types;

pub use types::{partner_progress, Tier, TierMutation, TierProgress, TierQuery, NODE_KIND};
