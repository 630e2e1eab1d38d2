use sea_orm::entity::prelude::*;

/// A bonus margin (`rate` of the closed amount) or a SPIFF (fixed `amount`) per qualifying won deal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incentive_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub amount_minor: Option<i64>,
    pub rate: Option<String>,
    pub product_id: Option<i64>,
    pub min_deal_minor: i64,
    pub period_start: Date,
    pub period_end: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
