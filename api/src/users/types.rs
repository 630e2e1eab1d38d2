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
pub struct User {
    pub model: user::Model,
    /// Shown to that same user (`me`, a login payload): its own organisation is always visible,
    /// even in the request that logs it in and so carries no token yet.
    own_view: bool,
}

impl User {
    /// A user as seen by some caller; nested fields apply the caller's policy.
    pub fn seen(model: user::Model) -> Self {
        User {
            model,
            own_view: false,
        }
    }

    async fn caller_sees_partner(
        &self,
        ctx: &Context<'_>,
        partner_id: i64,
    ) -> async_graphql::Result<bool> {
        let actor = actor(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(actor.user_id == self.model.id
            || policy::scope(db, &actor).await.extend()?.allows(partner_id))
    }

    /// A user as seen by itself.
    pub fn own(model: user::Model) -> Self {
        User {
            model,
            own_view: true,
        }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.model.id)
    }

    async fn email(&self) -> &str {
        &self.model.email
    }

    async fn name(&self) -> &str {
        &self.model.name
    }

    async fn role(&self) -> Role {
        self.model.role.into()
    }

    /// The partner organisation of a partner user; null for vendor staff.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(partner_id) = self.model.partner_id else {
            return Ok(None);
        };
        if !self.own_view && !self.caller_sees_partner(ctx, partner_id).await? {
            return Ok(None);
        }
        Ok(load_one::<partner::Entity>(ctx, partner_id)
            .await?
            .map(Partner))
    }

    async fn is_active(&self) -> bool {
        self.model.is_active
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}
