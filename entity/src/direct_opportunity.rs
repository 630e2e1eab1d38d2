use sea_orm::entity::prelude::*;

use crate::enums::OpportunityStage;

/// A direct rep's own opportunity on an account, which partners may have influenced.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "direct_opportunities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    /// The direct rep who owns it.
    pub owner_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub stage: OpportunityStage,
    pub close_date: Date,
    /// When it was won or lost.
    pub closed_at: Option<DateTimeUtc>,
    pub created_by_id: Option<i64>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
