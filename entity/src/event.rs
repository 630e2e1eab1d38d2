use sea_orm::entity::prelude::*;

/// The outbox: a change others may react to, written in the transaction that made it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `deal_registration.approved`, `content.published`, …
    pub event_type: String,
    /// The id of the object the event is about (its kind follows from the type).
    pub subject_id: i64,
    /// The partner organisation the event concerns, if any (who may receive it).
    pub partner_id: Option<i64>,
    /// The event's own facts, JSON.
    pub data: String,
    pub created_at: DateTimeUtc,
    /// When webhook deliveries were created for it.
    pub dispatched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
