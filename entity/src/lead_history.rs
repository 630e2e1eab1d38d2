use sea_orm::entity::prelude::*;

use crate::enums::LeadStatus;

/// Append-only record of a lead's routing and status changes, each with why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub lead_id: i64,
    pub from_status: Option<LeadStatus>,
    pub to_status: LeadStatus,
    /// The partner the lead is with after the change (none: nobody).
    pub partner_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
