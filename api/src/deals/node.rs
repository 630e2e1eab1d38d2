//! One registration by id (`node(id:)`), with its partner in the same statement when the
//! request selects it: the partner is one primary-key lookup from the registration, so
//! joining it costs the statement almost nothing and saves the partner loader's round trip
//! (a by-id read with its partner and products is then two statements, not three).
//!
//! For callers whose visibility is by partner alone (managers, partner users) the
//! statement's text is kept by shape (`Shapes`): building it with sea-query was 11% of the
//! server's CPU for such a read under load (a `perf` profile with call graphs).

use async_graphql::{Context, ErrorExtensions};
use entity::{deal_registration, partner};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
    RelationDef, Value,
};

use super::policy;
use crate::auth::Actor;
use crate::db::{Db, Prefixed, ReadRow, Shapes};
use crate::error::{AppError, AppResult};
use crate::loaders::{loader, ByIdLoader};
use crate::partners::policy::PartnerScope;

/// The texts of the registration-with-partner statement, by how many partners bound it.
static WITH_PARTNER: Shapes = Shapes::new();

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
    let found = match policy::visible_by_partner_alone(db, actor)
        .await
        .map_err(|e| e.extend())?
    {
        Some(scope) => with_partner_shaped(db, scope, id).await,
        None => with_partner(db, actor, id).await,
    }
    .map_err(|e| e.extend())?;
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

type WithPartner = Option<(deal_registration::Model, Option<partner::Model>)>;

fn to_partner() -> RelationDef {
    deal_registration::Entity::belongs_to(partner::Entity)
        .from(deal_registration::Column::PartnerId)
        .to(partner::Column::Id)
        .into()
}

async fn with_partner(db: &Db, actor: &Actor, id: i64) -> AppResult<WithPartner> {
    Ok(policy::visible_select(db, actor)
        .await?
        .filter(deal_registration::Column::Id.eq(id))
        .join(JoinType::InnerJoin, to_partner())
        .select_also(partner::Entity)
        .one(db)
        .await?)
}

/// `with_partner` for a caller seeing `scope`'s partners, its text kept by shape.
async fn with_partner_shaped(db: &Db, scope: &PartnerScope, id: i64) -> AppResult<WithPartner> {
    let (shape, mut values): (usize, Vec<Value>) = match scope {
        PartnerScope::All => (0, vec![]),
        PartnerScope::Only(ids) => (ids.len() + 1, ids.iter().map(|&p| p.into()).collect()),
    };
    values.push(id.into());
    let backend = db.get_database_backend();
    let statement = WITH_PARTNER.statement(backend, shape, values, || {
        scope
            .restrict(
                deal_registration::Entity::find(),
                deal_registration::Column::PartnerId,
            )
            .filter(deal_registration::Column::Id.eq(id))
            .join(JoinType::InnerJoin, to_partner())
            .select_also(partner::Entity)
            .into_query()
    })?;
    let Some(row) = db.query_one(statement).await? else {
        return Ok(None);
    };
    let registration = deal_registration::Model::read_row(&Prefixed::new(&row, "A_"))?;
    let partner = partner::Model::read_row(&Prefixed::new(&row, "B_"))
        .map_err(|e| AppError::internal(format!("the registration's partner: {e}")))?;
    Ok(Some((registration, Some(partner))))
}
