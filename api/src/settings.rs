//! Program-wide settings every replica reads (bands, models, versions, job claims).

use entity::setting;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::error::AppResult;

/// The value stored under `key`, if any.
pub async fn read(db: &impl ConnectionTrait, key: &str) -> AppResult<Option<String>> {
    Ok(setting::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|s| s.value))
}

/// Stores `value` under `key`, replacing what was there.
pub async fn store(db: &impl ConnectionTrait, key: &str, value: &str) -> AppResult<()> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
