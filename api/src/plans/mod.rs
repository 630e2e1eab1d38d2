//! Joint business plans: a plan with a strategic partner for a period, its revenue targets
//! per quarter, shared with and accepted by the partner, and actuals that are computed from
//! the partner's won registrations and influenced opportunities, never typed.

pub mod actuals;
pub mod policy;
pub mod service;
pub mod stages;
mod types;

pub use types::{find_visible, JointBusinessPlan, PlanMutation, PlanQuery};

pub const NODE_KIND: &str = "JointBusinessPlan";
