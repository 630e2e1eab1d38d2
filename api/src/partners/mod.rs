//! Partner organisations: the tenancy every other domain keys off.

pub mod policy;
pub mod service;
mod types;

pub use types::{Partner, PartnerQuery, PartnerStatus, PartnerType, NODE_KIND};
