use sea_orm::entity::prelude::*;

/// A secret a partner's or the vendor's own system calls the API with. Only its SHA-256 is
/// kept; `prefix` is the secret's visible start, for recognising it in lists and logs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    /// Scope names, comma-separated.
    pub scopes: String,
    /// The organisation the key acts for; none for a vendor service key.
    pub partner_id: Option<i64>,
    pub created_by_id: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
