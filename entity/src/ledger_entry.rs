use sea_orm::entity::prelude::*;

/// One line of a partner's money ledger: accrual, adjustment, payout or MDF payment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub partner_id: i64,
    pub program_id: Option<i64>,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub source: String,
    pub actor_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
