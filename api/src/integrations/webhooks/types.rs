//! The GraphQL side of webhooks: endpoints, their delivery log, redelivery and replay.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entity::{event, webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::deliveries::{message_id, payload};
use super::endpoints::{self, NewEndpoint};
use crate::auth::actor;
use crate::config::WebhookConfig;
use crate::db::Db;
use crate::error::AppError;
use crate::relay::{
    global_id, local_id, optional_local_id, paginate_ordered, PageArgs, RelayConnection, UserError,
    UserErrorCode,
};

pub const NODE_KIND: &str = "WebhookEndpoint";
const DELIVERY_KIND: &str = "WebhookDelivery";

#[derive(Clone)]
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The event types it receives (`deal_registration.approved`, …).
    async fn events(&self) -> Vec<String> {
        endpoints::subscribed(&self.0)
            .iter()
            .map(|t| t.name().to_owned())
            .collect()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The organisation whose events it receives; null: the whole program.
    async fn partner(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::partners::Partner>> {
        let Some(id) = self.0.partner_id else {
            return Ok(None);
        };
        Ok(crate::loaders::load_one::<entity::partner::Entity>(ctx, id)
            .await?
            .map(crate::partners::Partner))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Set when it was turned off, by hand or after a day of failed deliveries.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
}

/// One event on its way to one endpoint, with every attempt.
pub struct WebhookDelivery(webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        global_id(DELIVERY_KIND, self.0.id)
    }
    /// `PENDING` (waiting for its next attempt), `SUCCEEDED` or `FAILED`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WebhookEvent>> {
        let db = ctx.data::<Db>()?;
        Ok(event::Entity::find_by_id(self.0.event_id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?
            .map(WebhookEvent))
    }
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }
    /// Every attempt, oldest first.
    async fn attempts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let db = ctx.data::<Db>()?;
        Ok(webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.eq(self.0.id))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(db)
            .await
            .map_err(AppError::from)
            .extend()?
            .into_iter()
            .map(WebhookAttempt)
            .collect())
    }
    /// When a pending delivery is next attempted.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == super::deliveries::PENDING).then_some(self.0.next_attempt_at)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// An event as delivered: the body is exactly what was signed.
pub struct WebhookEvent(event::Model);

#[Object]
impl WebhookEvent {
    /// The `webhook-id` header: the same for every attempt and replay.
    async fn id(&self) -> String {
        message_id(&self.0)
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The JSON body sent.
    async fn payload(&self) -> String {
        payload(&self.0)
    }
}

/// One try: when, how long, and what the endpoint answered.
pub struct WebhookAttempt(webhook_attempt::Model);

#[Object]
impl WebhookAttempt {
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
    /// The endpoint's HTTP status; null when it did not answer.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }
    /// Why there was no answer (timeout, connection refused, refused address).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn succeeded(&self) -> bool {
        self.0.succeeded
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where events are POSTed (http or https; private addresses only when the server
    /// allows them).
    pub url: String,
    /// Event types, e.g. `deal_registration.approved`.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// An organisation admin's own organisation (the default for them); channel managers
    /// leave it out and receive the whole program.
    pub partner_id: Option<ID>,
}

#[derive(SimpleObject, Default)]
pub struct CreateWebhookEndpointPayload {
    pub endpoint: Option<WebhookEndpoint>,
    /// The `whsec_…` secret to verify signatures with: shown only in this answer.
    pub signing_secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct WebhookEndpointInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct WebhookEndpointPayload {
    pub endpoint: Option<WebhookEndpoint>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    pub delivery_id: ID,
}

#[derive(SimpleObject, Default)]
pub struct RedeliverWebhookPayload {
    /// The new delivery, due now.
    pub delivery: Option<WebhookDelivery>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ReplayWebhooksInput {
    pub endpoint_id: ID,
    /// Every event since then that the endpoint receives is sent again (at most 10,000).
    pub since: DateTime<Utc>,
}

#[derive(SimpleObject, Default)]
pub struct ReplayWebhooksPayload {
    pub endpoint: Option<WebhookEndpoint>,
    /// How many events were queued again.
    pub queued: i32,
    pub user_errors: Vec<UserError>,
}

async fn endpoint_of(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<webhook_endpoint::Model> {
    let actor = actor(ctx)?;
    let db = ctx.data::<Db>()?;
    let id = local_id(id, NODE_KIND)
        .ok_or_else(|| AppError::not_found("no such webhook endpoint").extend())?;
    endpoints::find(db, &actor, id).await.extend()
}

/// Turns an endpoint the caller manages off (with why) or on.
async fn switch(
    ctx: &Context<'_>,
    id: &ID,
    disabled: Option<String>,
) -> async_graphql::Result<WebhookEndpointPayload> {
    let endpoint = endpoint_of(ctx, id).await?;
    let db = ctx.data::<Db>()?;
    let updated = endpoints::set_disabled(db, endpoint, disabled)
        .await
        .extend()?;
    Ok(WebhookEndpointPayload {
        endpoint: Some(WebhookEndpoint(updated)),
        user_errors: vec![],
    })
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The endpoints the caller manages: the program's for a channel manager, its
    /// organisation's for an organisation admin.
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<WebhookEndpoint>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let select = endpoints::manageable(&actor)
            .ok_or_else(|| AppError::forbidden().extend())?
            .order_by_desc(webhook_endpoint::Column::Id);
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            WebhookEndpoint,
        )
        .await
        .extend()
    }

    /// An endpoint's deliveries, newest first, each with its attempts.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<WebhookDelivery>> {
        let endpoint = endpoint_of(ctx, &endpoint_id).await?;
        let db = ctx.data::<Db>()?;
        let select = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
            .order_by_desc(webhook_delivery::Column::Id);
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            WebhookDelivery,
        )
        .await
        .extend()
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint; its signing secret is in this payload only.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> async_graphql::Result<CreateWebhookEndpointPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let config = ctx.data::<Arc<WebhookConfig>>()?;
        let partner_id = match optional_local_id(
            "partnerId",
            input.partner_id.as_ref(),
            crate::partners::NODE_KIND,
        ) {
            Ok(id) => id,
            Err(user_errors) => {
                return Ok(CreateWebhookEndpointPayload {
                    user_errors,
                    ..Default::default()
                })
            }
        };
        let new = NewEndpoint {
            url: input.url,
            events: input.events,
            description: input.description,
            partner_id,
        };
        Ok(
            match endpoints::create(db, &actor, config, new).await.extend()? {
                Ok(created) => CreateWebhookEndpointPayload {
                    endpoint: Some(WebhookEndpoint(created.endpoint)),
                    signing_secret: Some(created.secret),
                    user_errors: vec![],
                },
                Err(user_errors) => CreateWebhookEndpointPayload {
                    user_errors,
                    ..Default::default()
                },
            },
        )
    }

    /// Stops deliveries to an endpoint (pending ones fail; replay them after enabling).
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> async_graphql::Result<WebhookEndpointPayload> {
        switch(ctx, &input.id, Some("disabled by hand".into())).await
    }

    /// Turns deliveries to an endpoint back on (events from now on; replay the gap).
    async fn enable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> async_graphql::Result<WebhookEndpointPayload> {
        switch(ctx, &input.id, None).await
    }

    /// Sends one delivery's event again, as a new delivery.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        input: RedeliverWebhookInput,
    ) -> async_graphql::Result<RedeliverWebhookPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let not_found = || AppError::not_found("no such webhook delivery").extend();
        let id = local_id(&input.delivery_id, DELIVERY_KIND).ok_or_else(not_found)?;
        let delivery = webhook_delivery::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(AppError::from)
            .extend()?
            .ok_or_else(not_found)?;
        // Only a delivery of an endpoint the caller manages exists for it.
        endpoints::find(db, &actor, delivery.endpoint_id)
            .await
            .map_err(|_| not_found())?;
        let queued = endpoints::redeliver(db, &delivery).await.extend()?;
        Ok(RedeliverWebhookPayload {
            delivery: Some(WebhookDelivery(queued)),
            user_errors: vec![],
        })
    }

    /// Sends every event since a time again to one endpoint (what it subscribes to and may
    /// receive), e.g. after an outage on its side.
    async fn replay_webhooks(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhooksInput,
    ) -> async_graphql::Result<ReplayWebhooksPayload> {
        let endpoint = endpoint_of(ctx, &input.endpoint_id).await?;
        let db = ctx.data::<Db>()?;
        if input.since > Utc::now() {
            return Ok(ReplayWebhooksPayload {
                user_errors: UserError::one(
                    "since",
                    UserErrorCode::Invalid,
                    "cannot be in the future",
                ),
                ..Default::default()
            });
        }
        let queued = endpoints::replay(db, &endpoint, input.since)
            .await
            .extend()?;
        Ok(ReplayWebhooksPayload {
            endpoint: Some(WebhookEndpoint(endpoint)),
            queued: queued as i32,
            user_errors: vec![],
        })
    }
}
