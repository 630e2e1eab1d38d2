use sea_orm::entity::prelude::*;

/// An account a plan pursues: an existing account (`account_id`) or a named prospect. The
/// name and web address are copied; `name_key` and `identity` are what registrations match.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub position: i32,
    pub account_id: Option<i64>,
    pub name: String,
    pub domain: Option<String>,
    pub country: Option<String>,
    pub name_key: String,
    pub identity: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
