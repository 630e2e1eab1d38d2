use crate::enums::ContentEventKind;
use sea_orm::entity::prelude::*;

/// A view, download or share of an asset by a user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub content_id: i64,
    pub user_id: i64,
    pub partner_id: Option<i64>,
    pub kind: ContentEventKind,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
