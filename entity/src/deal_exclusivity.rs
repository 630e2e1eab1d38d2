use sea_orm::entity::prelude::*;

/// The (customer, product) pairs held by approved registrations.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_exclusivity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    pub registration_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
