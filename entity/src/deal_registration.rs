use crate::enums::{DealStatus, DealType};
use sea_orm::entity::prelude::*;

/// A partner's registration of a deal with an end customer.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_registrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub created_by_id: Option<i64>,
    pub status: DealStatus,
    pub customer_name: String,
    pub customer_name_key: String,
    pub customer_name_token: String,
    pub customer_domain: Option<String>,
    pub customer_root: Option<String>,
    pub customer_country: Option<String>,
    pub customer_key: String,
    pub estimated_value_minor: i64,
    pub currency: String,
    pub expected_close_date: Date,
    pub deal_type: DealType,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
    pub protected_until: Option<DateTimeUtc>,
    pub extension_request_days: Option<i32>,
    pub extension_request_reason: Option<String>,
    pub closed_amount_minor: Option<i64>,
    pub closed_at: Option<DateTimeUtc>,
    pub resubmission_count: i32,
    pub editable_fields: Option<String>,
    pub contested_at: Option<DateTimeUtc>,
    /// The review queue's rank: 0 competing, 1 alone, none when not awaiting a decision.
    pub review_lane: Option<i16>,
    /// The best score among the parties an active registration may conflict with (0 when
    /// none; none while not assessed, or not active): `hasConflicts` compares it with the bands.
    pub conflict_score: Option<f64>,
    /// When it was first approved or rejected.
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
