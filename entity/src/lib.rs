//! sea-orm entities. Nothing but table mappings: business rules live in `api/`.

pub mod enums;
pub mod login_attempt;
pub mod partner;
pub mod session;
pub mod setting;
pub mod user;

pub use sea_orm;
