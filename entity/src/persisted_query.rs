use sea_orm::entity::prelude::*;

/// A GraphQL document registered under its SHA-256 (automatic persisted queries).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_queries")]
pub struct Model {
    /// Lower-case hex SHA-256 of `query`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub query: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
