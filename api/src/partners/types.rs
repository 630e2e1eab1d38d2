use async_graphql::ResultExt;
use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};
use entity::partner;
use sea_orm::DatabaseConnection;

use super::{policy, service};
use crate::auth::actor;
use crate::loaders::load_one;
use crate::relay::{global_id, local_id, PageArgs, RelayConnection};

pub const NODE_KIND: &str = "Partner";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerType")]
pub enum PartnerType {
    Reseller,
    Var,
    Distributor,
    Referral,
    SystemIntegrator,
    Msp,
    Oem,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PartnerStatus")]
pub enum PartnerStatus {
    Prospect,
    Onboarding,
    Active,
    Dormant,
    Terminated,
}

/// A partner organisation: reseller, distributor, integrator, referral partner, MSP...
pub struct Partner(pub partner::Model);

#[Object]
impl Partner {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    #[graphql(name = "type")]
    async fn partner_type(&self) -> PartnerType {
        self.0.partner_type.into()
    }

    async fn status(&self) -> PartnerStatus {
        self.0.status.into()
    }

    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// ISO 3166-1 alpha-2 country code.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }

    /// The distributor this partner buys through (two-tier), when the caller may see it.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(parent_id) = self.0.parent_id else {
            return Ok(None);
        };
        let actor = actor(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        if !policy::scope(db, &actor).await.extend()?.allows(parent_id) {
            return Ok(None);
        }
        Ok(load_one::<partner::Entity>(ctx, parent_id)
            .await?
            .map(Partner))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// Partner organisations visible to the caller.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Partner>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        service::list(db, &actor, &PageArgs::new(first, after, last, before))
            .await
            .extend()
    }

    /// One partner organisation, or null if it does not exist or is not visible.
    async fn partner(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Partner>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let Some(id) = local_id(&id, NODE_KIND) else {
            return Ok(None);
        };
        Ok(service::find_visible(db, &actor, id)
            .await
            .extend()?
            .map(Partner))
    }
}
