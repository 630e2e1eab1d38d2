use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mdf_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub allocation_id: i64,
    pub partner_id: i64,
    pub title: String,
    pub created_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
