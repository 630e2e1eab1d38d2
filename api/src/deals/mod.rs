//! Deal registration and channel conflict: products, accounts (rules of engagement),
//! registrations through their workflow, a pure conflict engine, and exclusivity enforced
//! by a unique key so no race can approve two parties for the same customer and product.

mod accounts;
pub mod candidates;
pub mod conflict_scores;
mod conflicts;
pub mod keys;
pub mod lanes;
mod loader;
pub mod matching;
mod mutation;
mod node;
pub mod policy;
mod postings;
mod register;
mod registrations;
mod review;
pub mod service;
mod types;
mod update;
pub mod workflow;

use entity::deal_registration;
use entity::enums::DealStatus;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::ActiveEnum;

pub use conflicts::{ConflictMutation, ConflictQuery};
pub use loader::ConflictLoader;
pub use mutation::DealMutation;
pub use node::{find_for, find_for_node};
pub use registrations::{list as list_registrations, DealRegistrationFilter};
pub use types::{
    Account, DealQuery, DealRegistration, DealType, Product, ACCOUNT_KIND, NODE_KIND, PRODUCT_KIND,
};

/// `deal_registrations.status = '…'` with the status written into the SQL, not bound. The
/// protection index holds approved registrations only (`status = 'APPROVED'`, migration
/// 12). PostgreSQL's generic plans cannot use it for a bound status. SQLite can, by
/// comparing the bound value, but then marks the statement to be prepared again whenever
/// it is rebound, whatever the status: a parse and a plan on every execution of every
/// statement filtering on one status, however warm the statement cache. A literal is
/// matched once, when the statement is prepared.
pub fn status_is(status: DealStatus) -> SimpleExpr {
    Expr::col((deal_registration::Entity, deal_registration::Column::Status))
        .eq(SimpleExpr::Constant(status.to_value().into()))
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};

    use super::*;

    #[test]
    fn a_status_condition_binds_nothing() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let statement = deal_registration::Entity::find()
                .filter(status_is(DealStatus::Won))
                .build(backend);
            assert!(
                statement.values.as_ref().is_none_or(|v| v.0.is_empty()),
                "{statement}"
            );
            assert!(
                statement
                    .sql
                    .ends_with(r#"WHERE "deal_registrations"."status" = 'WON'"#),
                "{}",
                statement.sql
            );
        }
    }
}
