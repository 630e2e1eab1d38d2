use sea_orm::entity::prelude::*;

use crate::enums::HealthBand;

/// A partner's health as computed on one day (one row per partner and day).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_health_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub day: Date,
    /// The score × 100 (0-10,000).
    pub score_hundredths: i32,
    pub band: HealthBand,
    /// The factors as JSON, each with its value, baseline, weight and contribution.
    pub factors: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
