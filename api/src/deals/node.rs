//! One registration by id (`node(id:)`), with its partner in the same statement when the
//! request selects it: the partner is one primary-key lookup from the registration, so
//! joining it costs the statement almost nothing and saves the partner loader's round trip
//! (a by-id read with its partner and products is then two statements, not three).

use async_graphql::{Context, ErrorExtensions};
use entity::{deal_registration, partner};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef};

use super::policy;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::loaders::{loader, ByIdLoader};

/// The registration `id` if `actor` may see it.
pub async fn find_for(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<deal_registration::Model>> {
    Ok(policy::visible_select(db, actor)
        .await?
        .filter(deal_registration::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// `find_for`, reading the registration's partner with it for the request's partner loader
/// when the request selects `partner` under the node.
pub async fn find_for_node(
    ctx: &Context<'_>,
    db: &Db,
    actor: &Actor,
    id: i64,
) -> async_graphql::Result<Option<deal_registration::Model>> {
    if !ctx.look_ahead().field("partner").exists() {
        return find_for(db, actor, id).await.map_err(|e| e.extend());
    }
    let to_partner: RelationDef = deal_registration::Entity::belongs_to(partner::Entity)
        .from(deal_registration::Column::PartnerId)
        .to(partner::Column::Id)
        .into();
    let found = policy::visible_select(db, actor)
        .await
        .map_err(|e| e.extend())?
        .filter(deal_registration::Column::Id.eq(id))
        .join(JoinType::InnerJoin, to_partner)
        .select_also(partner::Entity)
        .one(db)
        .await
        .map_err(|e| crate::error::AppError::from(e).extend())?;
    let Some((registration, partner)) = found else {
        return Ok(None);
    };
    if let Some(partner) = partner {
        loader::<i64, ByIdLoader<partner::Entity>>(ctx)
            .await?
            .feed_one(partner.id, partner)
            .await;
    }
    Ok(Some(registration))
}
