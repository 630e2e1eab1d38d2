use sea_orm::entity::prelude::*;

/// A program tier: ranked (1 = lowest), with the benefits it grants and the criteria to reach it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tiers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub description: Option<String>,
    pub protection_days: Option<i32>,
    pub rebate_eligible: bool,
    pub mdf_eligible: bool,
    pub min_won_revenue_minor: i64,
    pub currency: String,
    pub min_approved_registrations: i32,
    pub min_won_deals: i32,
    pub min_active_certifications: i32,
    pub criteria_period_months: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
