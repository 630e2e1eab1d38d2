use sea_orm::entity::prelude::*;

/// How a prospect rates (0-10) on one fit criterion.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prospect_ratings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub prospect_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub criterion_id: i64,
    pub value: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
