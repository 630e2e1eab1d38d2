use sea_orm::entity::prelude::*;

/// A measured partner's health signals as of the last refresh (see `health::refresh`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_health_signals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    pub registrations_recent: i64,
    pub registrations_before: i64,
    pub engagement_recent: i64,
    pub engagement_before: i64,
    pub completions: i64,
    pub certifications: i64,
    pub certifications_expiring: i64,
    pub days_since_last_win: Option<i64>,
    pub wins_last_year: i64,
    pub logins_recent: i64,
    pub logins_before: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
