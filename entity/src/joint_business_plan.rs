use sea_orm::entity::prelude::*;

use crate::enums::PlanStatus;

/// A joint business plan with a partner for a period: targets agreed, actuals computed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub period_start: Date,
    /// The last day of the period (inclusive).
    pub period_end: Date,
    pub status: PlanStatus,
    pub version: i32,
    pub created_by_id: i64,
    pub accepted_by_id: Option<i64>,
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
