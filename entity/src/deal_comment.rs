use sea_orm::entity::prelude::*;

/// A comment on a registration; internal notes are for vendor staff only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub registration_id: i64,
    pub author_id: Option<i64>,
    pub body: String,
    pub internal: bool,
    pub created_at: DateTimeUtc,
    /// The API key the change came through, if it did.
    pub api_key_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
