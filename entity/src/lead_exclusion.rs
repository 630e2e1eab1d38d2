use sea_orm::entity::prelude::*;

use crate::enums::LeadExclusionReason;

/// A partner that declined a lead or let its time to accept lapse: never offered it again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_exclusions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub lead_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    pub reason: LeadExclusionReason,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
