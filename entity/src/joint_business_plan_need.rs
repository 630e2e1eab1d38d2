use crate::enums::PlanNeedKind;
use sea_orm::entity::prelude::*;

/// Enablement a plan's partner needs: `required_count` of its people with the course, the
/// certification or the content (by kind), owned by a contact and/or a vendor user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_needs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub kind: PlanNeedKind,
    pub course_id: Option<i64>,
    pub program_id: Option<i64>,
    pub content_id: Option<i64>,
    pub required_count: i32,
    pub owner_contact_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub due_date: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
