//! Indexes the benchmark showed missing: conflict candidates are found by (key, status) so
//! closed registrations sharing a name token or domain are never read; the review queue's
//! "competing registration" test and a rebate statement's won deals are index lookups; an
//! account's domains load by account. The single-column key indexes become prefixes of the
//! new ones and are dropped.

use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in [
            index(
                "idx_registrations_token_status",
                DealRegistrations::Table,
                &["customer_name_token", "status"],
                false,
            ),
            index(
                "idx_registrations_root_status",
                DealRegistrations::Table,
                &["customer_root", "status"],
                false,
            ),
            index(
                "idx_registrations_customer_status",
                DealRegistrations::Table,
                &["customer_key", "status", "partner_id"],
                false,
            ),
            index(
                "idx_registrations_partner_status_closed",
                DealRegistrations::Table,
                &["partner_id", "status", "closed_at"],
                false,
            ),
            index(
                "idx_account_domains_account",
                AccountDomains::Table,
                &["account_id"],
                false,
            ),
        ] {
            manager.create_index(statement).await?;
        }
        for name in ["idx_registrations_root", "idx_registrations_name_token"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(DealRegistrations::Table)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the lookup index migration cannot be reverted".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum DealRegistrations {
    Table,
}

#[derive(DeriveIden)]
enum AccountDomains {
    Table,
}
