//! People who log in: partner users (one organisation each), channel managers, direct reps.

pub mod policy;
pub mod service;
mod types;

pub use types::{user_by_id, Role, User, UserMutation, UserQuery, NODE_KIND};
