use crate::enums::{PartnerType, ProspectStatus};
use sea_orm::entity::prelude::*;

/// A prospective partner being recruited.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prospects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub partner_type: PartnerType,
    pub country: Option<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
    pub status: ProspectStatus,
    pub fit_score_hundredths: i32,
    pub converted_partner_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
