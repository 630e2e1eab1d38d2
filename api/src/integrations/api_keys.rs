//! The GraphQL side of API keys: `createApiKey`, `revokeApiKey`, `apiKeys`.

use async_graphql::{Context, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::api_key;
use sea_orm::QueryOrder;

use super::keys::{self, NewKey};
use super::scopes::{ApiScope, Scopes};
use crate::auth::actor;
use crate::db::Db;
use crate::error::AppError;
use crate::relay::{
    global_id, local_id, optional_local_id, paginate_ordered, PageArgs, RelayConnection, UserError,
};

pub const NODE_KIND: &str = "ApiKey";

/// A key a partner's or the vendor's own system calls the API with. The secret itself is
/// shown once, when the key is created.
#[derive(Clone)]
pub struct ApiKey(pub api_key::Model);

#[Object]
impl ApiKey {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The secret's first characters (`pgk_` and eight more), to tell keys apart.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn scopes(&self) -> Vec<ApiScope> {
        Scopes::parse(&self.0.scopes).list().to_vec()
    }
    /// The organisation the key acts for; null for a vendor key.
    async fn partner(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::partners::Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        // Whoever sees a key manages it, and so sees its organisation.
        Ok(crate::loaders::load_one::<entity::partner::Entity>(ctx, id)
            .await?
            .map(crate::partners::Partner))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When the key was last used (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for, e.g. `CRM sync` (named in history: "via API key CRM sync").
    pub name: String,
    pub scopes: Vec<ApiScope>,
    /// Never expires when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// The organisation the key acts for: an organisation admin's own (the default for
    /// them). Channel managers leave it out: their keys are vendor keys.
    pub partner_id: Option<ID>,
}

#[derive(SimpleObject, Default)]
pub struct CreateApiKeyPayload {
    pub api_key: Option<ApiKey>,
    /// The key itself (`pgk_…`): shown only in this answer, stored only as a hash.
    pub secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct RevokeApiKeyPayload {
    pub api_key: Option<ApiKey>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The API keys the caller manages: every key for a channel manager, its organisation's
    /// for an organisation admin. Never the secrets.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<ApiKey>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let select = keys::manageable(&actor)
            .ok_or_else(|| AppError::forbidden().extend())?
            .order_by_desc(api_key::Column::Id);
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            ApiKey,
        )
        .await
        .extend()
    }
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates a key; its secret is in this payload only.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let partner_id = match optional_local_id(
            "partnerId",
            input.partner_id.as_ref(),
            crate::partners::NODE_KIND,
        ) {
            Ok(id) => id,
            Err(user_errors) => {
                return Ok(CreateApiKeyPayload {
                    user_errors,
                    ..Default::default()
                })
            }
        };
        let new = NewKey {
            name: input.name,
            scopes: input.scopes,
            expires_at: input.expires_at,
            partner_id,
        };
        Ok(match keys::create(db, &actor, new).await.extend()? {
            Ok(created) => CreateApiKeyPayload {
                api_key: Some(ApiKey(created.key)),
                secret: Some(created.secret),
                user_errors: vec![],
            },
            Err(user_errors) => CreateApiKeyPayload {
                user_errors,
                ..Default::default()
            },
        })
    }

    /// Revokes a key: its next request, on any replica, is refused with 401, and its open
    /// subscriptions close.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&input.id, NODE_KIND) else {
            return Err(AppError::not_found("no such API key").extend());
        };
        let key = keys::revoke(db, &actor, id).await.extend()?;
        Ok(RevokeApiKeyPayload {
            api_key: Some(ApiKey(key)),
            user_errors: vec![],
        })
    }
}
