//! Incentives: rebate programs with exact, explainable statements and an append-only
//! ledger; market development funds from budget to paid claim. Direct reps see none of a
//! partner's economics; partners see their own (a distributor also its tier-two's).

pub mod awards;
pub mod mdf;
mod mutation;
pub mod rebates;
pub mod service;
pub mod statements;
mod types;

pub use awards::{AwardMutation, AwardQuery};
pub use mutation::IncentiveMutation;
pub use types::IncentiveQuery;
