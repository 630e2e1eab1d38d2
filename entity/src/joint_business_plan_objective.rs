use crate::enums::PlanMetric;
use sea_orm::entity::prelude::*;

/// A weighted objective: `target_value` is minor units of `currency` for money measures, a
/// count otherwise.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_objectives")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub name: String,
    pub metric: PlanMetric,
    pub target_value: i64,
    pub currency: Option<String>,
    pub weight: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
