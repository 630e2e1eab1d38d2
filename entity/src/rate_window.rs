use sea_orm::entity::prelude::*;

/// The cost a rate-limit bucket spent in one fixed window, summed over every replica.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_windows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: String,
    /// Unix seconds at which the window starts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: i64,
    pub cost: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
