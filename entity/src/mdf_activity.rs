use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mdf_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i64,
    pub description: String,
    pub requested_minor: i64,
    pub approved_minor: Option<i64>,
    pub claimed_minor: i64,
    pub status: String,
    pub claim_deadline: Option<Date>,
    pub required_proof: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
