use sea_orm::entity::prelude::*;

/// A changed row that cached callers may depend on (SQLite only; PostgreSQL announces the
/// same with NOTIFY). `kind`: `s` session, `u` user, `k` API key, `p` partner, `t` tier.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub ref_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
