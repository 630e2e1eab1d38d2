use sea_orm::entity::prelude::*;

/// One kept fact of a whole past month of the program: `fact` names what is counted
/// (`won`, `lost`, `closeDays`, `approved`, `rejected`, `decisionHours`, `submitted`,
/// `content`, `completions`, `producers`, and `kept`, present once per kept month), `key` a
/// currency or content kind, `value` a histogram bin; `partner_ids` the producing partners,
/// comma-separated (on the `producers` row, empty on the others).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_month_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub fact: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: i64,
    pub n: i64,
    pub amount: i64,
    pub partner_ids: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
