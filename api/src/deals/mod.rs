//! Deal registration and channel conflict: products, accounts (rules of engagement),
//! registrations through their workflow, a pure conflict engine, and exclusivity enforced
//! by a unique key so no race can approve two parties for the same customer and product.

pub mod conflicts;
pub mod lanes;
mod loader;
pub mod policy;
pub mod service;
mod types;
pub mod workflow;

pub use loader::ConflictLoader;
pub use types::find_for;
pub use types::{DealMutation, DealQuery, DealRegistration, Product, NODE_KIND, PRODUCT_KIND};
