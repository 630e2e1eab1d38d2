use crate::enums::ProposalStatus;
use sea_orm::entity::prelude::*;

/// A comment on a plan; with `proposed_changes` (JSON) it is a proposal a channel manager
/// accepts or declines.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "joint_business_plan_comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub author_id: i64,
    pub body: String,
    pub proposed_changes: Option<String>,
    pub proposal_status: Option<ProposalStatus>,
    pub resolved_by_id: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution_note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
