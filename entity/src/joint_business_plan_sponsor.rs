use crate::enums::PlanSide;
use sea_orm::entity::prelude::*;

/// An executive sponsor of a plan: a vendor user (`Vendor`) or a partner contact (`Partner`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_sponsors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub side: PlanSide,
    pub user_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub role: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
