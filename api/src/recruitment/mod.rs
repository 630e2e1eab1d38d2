//! Recruitment: prospective partners scored against the ideal partner profile, a set of
//! weighted criteria the channel team configures. Prospects are internal to the vendor.

pub mod rules;
pub mod service;
mod types;

pub use types::{
    find_for, ProfileCache, Prospect, RecruitmentMutation, RecruitmentQuery, NODE_KIND,
};
