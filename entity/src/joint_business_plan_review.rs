use sea_orm::entity::prelude::*;

/// A quarterly review: `snapshot` (JSON) is the attainment when it was recorded;
/// `target_changes` (JSON) the next quarter's targets it adjusted, from and to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_reviews")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub quarter: String,
    pub snapshot: String,
    pub vendor_notes: Option<String>,
    pub adjustments: Option<String>,
    pub target_changes: String,
    pub recorded_by_id: i64,
    pub recorded_at: DateTimeUtc,
    pub partner_notes: Option<String>,
    pub partner_noted_by_id: Option<i64>,
    pub partner_noted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
