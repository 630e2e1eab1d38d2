use sea_orm::entity::prelude::*;

use crate::enums::LeadStatus;

/// A lead from the vendor's marketing, routed to a partner. Its contact details are shown to
/// the partner only once it accepts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_name: String,
    pub company_domain: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub vertical: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub source: Option<String>,
    pub status: LeadStatus,
    pub assigned_partner_id: Option<i64>,
    /// The routing rule that chose the partner (none: the weighted fallback or a manager).
    pub rule_id: Option<i64>,
    pub assigned_at: Option<DateTimeUtc>,
    /// When the assigned partner's time to accept runs out.
    pub accept_by: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub converted_at: Option<DateTimeUtc>,
    pub registration_id: Option<i64>,
    pub created_by_id: i64,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
