use sea_orm::entity::prelude::*;

use crate::enums::OpportunityStage;

/// Append-only record of an opportunity's stage changes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "direct_opportunity_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub opportunity_id: i64,
    pub actor_id: Option<i64>,
    pub from_stage: Option<OpportunityStage>,
    pub to_stage: OpportunityStage,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
