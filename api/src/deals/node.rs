//! One registration by id (`node(id:)`), with its partner, and its products when the
//! request selects them, in the same statement: the partner is one primary-key lookup from
//! the registration and the products a few rows of an index, so joining them costs the
//! statement little and saves the loaders' round trips (a by-id read with its partner and
//! products is one statement, not three). The joined products come back a row each, the
//! registration and partner repeated on every row.
//!
//! For callers whose visibility is by partner alone (managers, partner users) the
//! statement's text is kept by shape (`Shapes`): building it with sea-query was 11% of the
//! server's CPU for such a read under load (a `perf` profile with call graphs).

use async_graphql::{Context, ErrorExtensions};
use entity::{deal_registration, deal_registration_product as link, partner, product};
use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, JoinType, QueryFilter,
    QueryResult, QuerySelect, QueryTrait, RelationDef, Value,
};

use super::policy;
use crate::auth::Actor;
use crate::db::{Db, Prefixed, ReadRow, Shapes};
use crate::error::{AppError, AppResult};
use crate::loaders::{loader, ByIdLoader, RegistrationProducts};
use crate::partners::policy::PartnerScope;

/// The texts of the registration-with-partner statement, by how many partners bound it.
static WITH_PARTNER: Shapes = Shapes::new();
/// The same with the registration's products joined.
static WITH_PRODUCTS: Shapes = Shapes::new();

/// Column aliases of the joined products' columns.
const PRODUCT_PREFIX: &str = "C_";

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

/// `find_for`, reading the registration's partner (and products) with it for the request's
/// loaders when the request selects `partner` (or `products`) under the node.
pub async fn find_for_node(
    ctx: &Context<'_>,
    db: &Db,
    actor: &Actor,
    id: i64,
) -> async_graphql::Result<Option<deal_registration::Model>> {
    let node = ctx.look_ahead();
    let products = node.field("products").exists();
    if !node.field("partner").exists() && !products {
        return find_for(db, actor, id).await.map_err(|e| e.extend());
    }
    let found = match policy::visible_by_partner_alone(db, actor)
        .await
        .map_err(|e| e.extend())?
    {
        Some(scope) => with_partner_shaped(db, scope, id, products).await,
        None => with_partner(db, actor, id).await,
    }
    .map_err(|e| e.extend())?;
    let Some(Found {
        registration,
        partner,
        products,
    }) = found
    else {
        return Ok(None);
    };
    if let Some(partner) = partner {
        loader::<i64, ByIdLoader<partner::Entity>>(ctx)
            .await?
            .feed_one(partner.id, partner)
            .await;
    }
    if let Some(products) = products {
        loader::<i64, RegistrationProducts>(ctx)
            .await?
            .feed_one(registration.id, products)
            .await;
    }
    Ok(Some(registration))
}

/// A registration read by id with what was joined to it: its partner, its products (in id
/// order) when they were asked for.
struct Found {
    registration: deal_registration::Model,
    partner: Option<partner::Model>,
    products: Option<Vec<product::Model>>,
}

fn to_partner() -> RelationDef {
    deal_registration::Entity::belongs_to(partner::Entity)
        .from(deal_registration::Column::PartnerId)
        .to(partner::Column::Id)
        .into()
}

async fn with_partner(db: &Db, actor: &Actor, id: i64) -> AppResult<Option<Found>> {
    let found = policy::visible_select(db, actor)
        .await?
        .filter(deal_registration::Column::Id.eq(id))
        .join(JoinType::InnerJoin, to_partner())
        .select_also(partner::Entity)
        .one(db)
        .await?;
    Ok(found.map(|(registration, partner)| Found {
        registration,
        partner,
        products: None,
    }))
}

/// `with_partner` for a caller seeing `scope`'s partners, its text kept by shape, with the
/// registration's products joined when `products`.
async fn with_partner_shaped(
    db: &Db,
    scope: &PartnerScope,
    id: i64,
    products: bool,
) -> AppResult<Option<Found>> {
    let (shape, mut values): (usize, Vec<Value>) = match scope {
        PartnerScope::All => (0, vec![]),
        PartnerScope::Only(ids) => (ids.len() + 1, ids.iter().map(|&p| p.into()).collect()),
    };
    values.push(id.into());
    let backend = db.get_database_backend();
    let texts = if products {
        &WITH_PRODUCTS
    } else {
        &WITH_PARTNER
    };
    let statement = texts.statement(backend, shape, values, || {
        let mut select = scope
            .restrict(
                deal_registration::Entity::find(),
                deal_registration::Column::PartnerId,
            )
            .filter(deal_registration::Column::Id.eq(id))
            .join(JoinType::InnerJoin, to_partner())
            .select_also(partner::Entity)
            .into_query();
        if products {
            join_products(&mut select);
        }
        select
    })?;
    let rows = db.query_all(statement).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let registration = deal_registration::Model::read_row(&Prefixed::new(first, "A_"))?;
    let partner = partner::Model::read_row(&Prefixed::new(first, "B_"))
        .map_err(|e| AppError::internal(format!("the registration's partner: {e}")))?;
    let products = if products {
        Some(joined_products(&rows)?)
    } else {
        None
    };
    Ok(Some(Found {
        registration,
        partner: Some(partner),
        products,
    }))
}

/// Adds the registration's products to `select`, a row each (none: one row of nulls), their
/// columns prefixed `PRODUCT_PREFIX`, in id order.
fn join_products(select: &mut SelectStatement) {
    select
        .join(
            JoinType::LeftJoin,
            link::Entity,
            Expr::col((link::Entity, link::Column::RegistrationId))
                .equals((deal_registration::Entity, deal_registration::Column::Id)),
        )
        .join(
            JoinType::LeftJoin,
            product::Entity,
            Expr::col((product::Entity, product::Column::Id))
                .equals((link::Entity, link::Column::ProductId)),
        );
    for column in product::Column::iter() {
        let alias = Alias::new(format!("{PRODUCT_PREFIX}{}", column.as_str()));
        select.expr_as(Expr::col((product::Entity, column)), alias);
    }
    select.order_by((product::Entity, product::Column::Id), sea_orm::Order::Asc);
}

/// The products of the rows `join_products` gave (a row of nulls is no product).
fn joined_products(rows: &[QueryResult]) -> AppResult<Vec<product::Model>> {
    let mut products = Vec::with_capacity(rows.len());
    for row in rows {
        let columns = Prefixed::new(row, PRODUCT_PREFIX);
        if columns.get::<Option<i64>>(product::Column::Id)?.is_some() {
            products.push(product::Model::read_row(&columns)?);
        }
    }
    Ok(products)
}
