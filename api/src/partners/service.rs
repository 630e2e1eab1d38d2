use entity::partner;
use sea_orm::{DatabaseConnection, EntityTrait};

use super::policy::scope;
use super::types::Partner;
use crate::auth::Actor;
use crate::error::AppResult;
use crate::relay::{paginate, PageArgs, RelayConnection};

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    args: &PageArgs,
) -> AppResult<RelayConnection<Partner>> {
    let visible = scope(db, actor)
        .await?
        .restrict(partner::Entity::find(), partner::Column::Id);
    paginate(db, visible, partner::Column::Id, args, |p| p.id, Partner).await
}

/// The partner, if it exists and the caller may see it (otherwise `None`: never leak existence).
pub async fn find_visible(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<partner::Model>> {
    if !scope(db, actor).await?.allows(id) {
        return Ok(None);
    }
    Ok(partner::Entity::find_by_id(id).one(db).await?)
}
