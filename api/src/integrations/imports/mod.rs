//! Bulk import of deal registrations: up to 1,000 rows upserted by `externalId` within the
//! caller's organisation, worked through in the background by one worker per job.

pub mod service;
mod types;

pub use types::{find, ImportJob, ImportMutation, ImportQuery, ImportWake, NODE_KIND};
