use sea_orm::entity::prelude::*;

use crate::enums::Influence;

/// What a partner's contact pushes: a product or a vertical, and how strongly.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_influences")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub product_id: Option<i64>,
    pub vertical: Option<String>,
    pub strength: Influence,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
