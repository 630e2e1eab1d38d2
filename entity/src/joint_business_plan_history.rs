use sea_orm::entity::prelude::*;

use crate::enums::PlanStatus;

/// Append-only record of a plan's status changes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub from_status: Option<PlanStatus>,
    pub to_status: PlanStatus,
    pub actor_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
