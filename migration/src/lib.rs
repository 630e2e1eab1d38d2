//! Database migrations. One file per change; a landed migration is never edited.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261122_000001_foundation;
mod m20261122_000002_partner_program;
mod m20261122_000003_content;
mod m20261122_000004_deals;
mod m20261122_000005_incentives;
mod m20261122_000006_incentive_awards;
mod m20261122_000007_lookup_indexes;
mod m20261122_000008_review_lanes;
mod m20261122_000009_won_revenue_index;
mod m20261122_000010_active_key_indexes;
mod m20261130_000011_registration_counts;
mod m20261203_000012_lean_registration_indexes;
mod m20261206_000013_persisted_queries;
mod m20261207_000014_integrations;
mod m20261207_000015_customer_keys;
mod m20261207_000016_registration_filters;
mod m20261208_000017_conflict_scores;
mod m20261209_000018_channel_metrics;
mod m20261210_000019_kept_metrics;
mod m20261211_000020_leads;
mod m20261212_000021_org_map;
mod m20261213_000022_joint_business_plans;
mod m20261214_000023_plan_contents;
mod m20261215_000024_audit_events;
mod m20261216_000025_credential_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_partner_program::Migration),
            Box::new(m20261122_000003_content::Migration),
            Box::new(m20261122_000004_deals::Migration),
            Box::new(m20261122_000005_incentives::Migration),
            Box::new(m20261122_000006_incentive_awards::Migration),
            Box::new(m20261122_000007_lookup_indexes::Migration),
            Box::new(m20261122_000008_review_lanes::Migration),
            Box::new(m20261122_000009_won_revenue_index::Migration),
            Box::new(m20261122_000010_active_key_indexes::Migration),
            Box::new(m20261130_000011_registration_counts::Migration),
            Box::new(m20261203_000012_lean_registration_indexes::Migration),
            Box::new(m20261206_000013_persisted_queries::Migration),
            Box::new(m20261207_000014_integrations::Migration),
            Box::new(m20261207_000015_customer_keys::Migration),
            Box::new(m20261207_000016_registration_filters::Migration),
            Box::new(m20261208_000017_conflict_scores::Migration),
            Box::new(m20261209_000018_channel_metrics::Migration),
            Box::new(m20261210_000019_kept_metrics::Migration),
            Box::new(m20261211_000020_leads::Migration),
            Box::new(m20261212_000021_org_map::Migration),
            Box::new(m20261213_000022_joint_business_plans::Migration),
            Box::new(m20261214_000023_plan_contents::Migration),
            Box::new(m20261215_000024_audit_events::Migration),
            Box::new(m20261216_000025_credential_changes::Migration),
        ]
    }
}
