use crate::enums::DealStatus;
use sea_orm::entity::prelude::*;

/// Append-only record of a registration's transitions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub registration_id: i64,
    pub actor_id: Option<i64>,
    pub from_status: Option<DealStatus>,
    pub to_status: DealStatus,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// The API key the change came through, if it did.
    pub api_key_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
