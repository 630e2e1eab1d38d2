//! Incentives: rebate programs with exact, explainable statements and an append-only
//! ledger; market development funds from budget to paid claim. Direct reps see none of a
//! partner's economics; partners see their own (a distributor also its tier-two's).

pub mod awards;
pub mod rebates;
pub mod service;
mod types;

pub use awards::{AwardMutation, AwardQuery};
pub use types::{IncentiveMutation, IncentiveQuery};
