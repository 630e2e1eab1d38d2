use async_graphql::ResultExt;
use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};
use entity::{partner, user};
use sea_orm::DatabaseConnection;

use crate::auth::actor;
use crate::loaders::load_one;
use crate::partners::{policy, Partner};
use crate::relay::global_id;

pub const NODE_KIND: &str = "User";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    /// A user of one partner organisation.
    Partner,
    /// Runs the partner program.
    ChannelManager,
    /// The vendor's own seller, owning direct accounts.
    DirectRep,
}

/// Someone who can log in. The password hash never leaves the server.
pub struct User(pub user::Model);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The partner organisation of a partner user; null for vendor staff.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(partner_id) = self.0.partner_id else {
            return Ok(None);
        };
        let actor = actor(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        if actor.user_id != self.0.id
            && !policy::scope(db, &actor).await.extend()?.allows(partner_id)
        {
            return Ok(None);
        }
        Ok(load_one::<partner::Entity>(ctx, partner_id)
            .await?
            .map(Partner))
    }

    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
