use sea_orm::entity::prelude::*;

use crate::enums::InfluenceRole;

/// A partner's part in a direct opportunity (at most one per partner and opportunity).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opportunity_influences")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub opportunity_id: i64,
    pub partner_id: i64,
    pub role: InfluenceRole,
    pub added_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
