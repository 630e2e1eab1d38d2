//! Joint business plans: a plan with a strategic partner for a period, its revenue targets
//! per quarter, shared with and accepted by the partner, and actuals that are computed from
//! the partner's won registrations and influenced opportunities, never typed.

pub mod actuals;
pub mod changes;
pub mod comments;
mod contents_types;
mod loaders;
pub mod policy;
pub mod progress;
mod progress_types;
pub mod reviews;
pub mod scorecard;
pub mod service;
pub mod stages;
mod talk_types;
mod types;

pub use contents_types::PlanContentMutation;
pub use talk_types::{PlanComment, PlanReview, PlanTalkMutation};
pub use types::{find_visible, JointBusinessPlan, PlanMutation, PlanQuery};

pub const NODE_KIND: &str = "JointBusinessPlan";
