//! People who log in: partner users (one organisation each), channel managers, direct reps.

pub mod policy;
pub mod service;
mod types;

pub use types::{Role, User, UserMutation, UserQuery, NODE_KIND};
