//! Partner organisations: the tenancy every other domain keys off, their lifecycle,
//! contacts and onboarding.

pub mod contacts;
pub mod onboarding;
pub mod org_map;
pub mod policy;
pub mod rules;
pub mod service;
mod types;

pub use types::{
    Partner, PartnerMutation, PartnerPayload, PartnerQuery, PartnerStatus, PartnerType, NODE_KIND,
};
