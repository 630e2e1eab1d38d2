use crate::enums::AccountOwnership;
use sea_orm::entity::prelude::*;

/// A known customer account, for the rules of engagement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub name_key: String,
    pub name_token: String,
    pub country: Option<String>,
    pub ownership: AccountOwnership,
    pub is_customer: bool,
    pub owner_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
