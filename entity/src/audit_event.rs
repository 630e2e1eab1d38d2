use crate::enums::{AuditOutcome, AuditVia, Role};
use sea_orm::entity::prelude::*;

/// One mutation as it was run: who, how, from where, what it named, how it ended.
/// `fields` is the operation's root fields (comma-separated); `object_ids` and
/// `error_codes` are JSON arrays of strings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i64>,
    pub actor_role: Option<Role>,
    pub partner_id: Option<i64>,
    pub via: AuditVia,
    pub api_key_id: Option<i64>,
    pub client_address: Option<String>,
    pub operation_name: Option<String>,
    pub fields: String,
    pub object_ids: String,
    pub outcome: AuditOutcome,
    pub error_codes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
