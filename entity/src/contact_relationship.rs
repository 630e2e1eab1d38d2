use sea_orm::entity::prelude::*;

use crate::enums::Influence;

/// How well a named member of the vendor's staff knows a partner's contact, and whether
/// that person is the vendor's executive sponsor for them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_relationships")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub user_id: i64,
    pub strength: Influence,
    pub last_interaction_at: Option<DateTimeUtc>,
    pub is_executive_sponsor: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
