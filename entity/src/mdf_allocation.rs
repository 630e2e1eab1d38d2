use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mdf_allocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub budget_id: i64,
    pub partner_id: i64,
    pub amount_minor: i64,
    pub approved_minor: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
