//! The GraphQL schema: each domain contributes its query and mutation roots.

use async_graphql::ResultExt;
use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, Interface, MergedObject, Object, Schema,
    SchemaBuilder, ID,
};
use sea_orm::DatabaseConnection;

use crate::auth::{actor, AuthMutation, AuthQuery, AuthService};
use crate::config::Limits;
use crate::error::AppError;
use crate::partners::{self, Partner, PartnerQuery};
use crate::relay::decode_global_id;
use crate::users::{self, User};

#[derive(MergedObject, Default)]
pub struct Query(NodeQuery, AuthQuery, PartnerQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(AuthMutation);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// An object with a global ID, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global identifier."))]
pub enum Node {
    Partner(Partner),
    User(User),
}

const MAX_NODES: usize = 100;

async fn resolve_node(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let actor = actor(ctx)?;
    let db = ctx.data::<DatabaseConnection>()?;
    let Some((kind, local)) = decode_global_id(id) else {
        return Ok(None);
    };
    let node = match kind.as_str() {
        partners::NODE_KIND => partners::service::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|p| Node::Partner(Partner(p))),
        users::NODE_KIND => users::service::find_visible(db, &actor, local)
            .await
            .extend()?
            .map(|u| Node::User(User::seen(u))),
        _ => None,
    };
    Ok(node)
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by global ID; null when it does not exist or the caller may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        resolve_node(ctx, &id).await
    }

    /// Several objects by global ID (at most 100), in the order asked.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::BadUserInput(format!("at most {MAX_NODES} ids")).extend());
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            nodes.push(resolve_node(ctx, id).await?);
        }
        Ok(nodes)
    }
}

/// The schema's shape and limits, without runtime data (enough to print the SDL).
pub fn schema_builder(limits: &Limits) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .extension(async_graphql::extensions::Tracing)
}

pub fn build_schema(db: DatabaseConnection, auth: Arc<AuthService>, limits: &Limits) -> AppSchema {
    schema_builder(limits).data(db).data(auth).finish()
}

/// The SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    schema_builder(&Limits::default()).finish().sdl()
}
