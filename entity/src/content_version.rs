use crate::enums::ContentKind;
use sea_orm::entity::prelude::*;

/// One immutable version of an asset. `labels` is JSON: tags, products and verticals.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub content_id: i64,
    pub version: i32,
    pub kind: ContentKind,
    pub title: String,
    pub body: Option<String>,
    pub labels: String,
    pub file_id: Option<i64>,
    pub change_note: Option<String>,
    pub author_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
