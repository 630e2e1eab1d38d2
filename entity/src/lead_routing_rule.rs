use sea_orm::entity::prelude::*;

/// A rule that sends matching leads to eligible partners, tried in priority order (lowest
/// number first). Its lists are JSON arrays; an empty or absent list matches anything.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lead_routing_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub priority: i32,
    /// The lead's side: regions, verticals, products of interest.
    pub regions: String,
    pub verticals: String,
    pub product_ids: String,
    /// The partner's side: named partners, partner types, a minimum tier, certification
    /// programs held, and a cap on open leads.
    pub partner_ids: String,
    pub partner_types: String,
    pub min_tier_id: Option<i64>,
    pub certification_program_ids: String,
    pub capacity: Option<i32>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
