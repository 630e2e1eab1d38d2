use sea_orm::entity::prelude::*;

/// A bulk import of deal registrations, worked through in the background.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub created_by_id: i64,
    pub api_key_id: Option<i64>,
    /// `QUEUED`, `RUNNING` or `COMPLETED`.
    pub status: String,
    pub total: i32,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// A worker holds the job until then (a crashed worker's hold runs out).
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
