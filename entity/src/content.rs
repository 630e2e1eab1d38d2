use crate::enums::ContentKind;
use sea_orm::entity::prelude::*;

/// An enablement asset; its row holds the current version (older ones are in `content_versions`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: ContentKind,
    pub title: String,
    pub body: Option<String>,
    pub search_tags: String,
    pub file_id: Option<i64>,
    pub current_version: i32,
    pub internal_only: bool,
    pub min_tier_rank: Option<i32>,
    pub review_by: Option<Date>,
    pub expires_at: Option<DateTimeUtc>,
    pub created_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
