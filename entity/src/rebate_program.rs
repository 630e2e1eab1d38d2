use sea_orm::entity::prelude::*;

/// A rebate program; `bands` is JSON `[{min, max, rate}]` as exact decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rebate_programs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub period_start: Date,
    pub period_end: Date,
    pub method: String,
    pub cap_minor: Option<i64>,
    pub bands: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
