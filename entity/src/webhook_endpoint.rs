use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    /// Event types, comma-separated.
    pub events: String,
    pub description: Option<String>,
    /// The organisation whose events it receives; none for the whole program (managers).
    pub partner_id: Option<i64>,
    pub created_by_id: i64,
    /// The signing secret, `whsec_…` (kept: every delivery is signed with it).
    pub secret: String,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
