//! Partner health: an explainable score from leading indicators (registration and
//! engagement trends, training, deal recency, portal activity), the at-risk list, and a
//! daily snapshot per partner for its history.

pub mod model;
pub mod refresh;
pub mod service;
pub mod signals;
mod types;

pub use types::{
    health_field, history_field, HealthMutation, HealthQuery, HealthSnapshot, PartnerHealth,
};
