use crate::enums::{DealRole, Influence};
use sea_orm::entity::prelude::*;

/// A person at a partner organisation (the org map used for joint planning).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub deal_role: DealRole,
    pub influence: Influence,
    pub is_executive_sponsor: bool,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub department: Option<String>,
    /// The contact this one reports to (same partner; never a cycle).
    pub reports_to_id: Option<i64>,
    /// The vendor's private notes: never shown to the partner.
    pub vendor_notes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
