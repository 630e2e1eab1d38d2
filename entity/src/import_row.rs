use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_id: i64,
    /// The row's position in the input, from 0.
    pub row_index: i32,
    /// The row as given, JSON.
    pub input: String,
    /// `CREATED`, `UPDATED`, `UNCHANGED` or `FAILED`; none until processed.
    pub outcome: Option<String>,
    pub registration_id: Option<i64>,
    /// The row's field errors, JSON.
    pub errors: Option<String>,
    /// Conflicts found for the row's registration, JSON.
    pub conflicts: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
