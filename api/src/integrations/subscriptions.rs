//! The `Subscription` root: live changes over GraphQL over WebSocket (graphql-transport-ws),
//! each filtered by the subscriber's tenancy as its queries would be.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entity::event;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast;

use super::audience::may_see;
use super::bus::EventBus;
use super::scopes;
use crate::auth::{actor, Actor};
use crate::content::Content;
use crate::db::Db;
use crate::deals::DealRegistration;
use crate::error::AppError;
use crate::events::EventType;
use crate::loaders::{Forget, Loaders};

/// A deal registration moved (or, for channel managers, was found in conflict).
#[derive(SimpleObject)]
pub struct DealRegistrationChange {
    /// The event's type, as webhooks name it: `deal_registration.approved`, …
    #[graphql(name = "type")]
    pub event_type: String,
    pub registration: DealRegistration,
    pub occurred_at: DateTime<Utc>,
}

/// A content item was published or changed.
#[derive(SimpleObject)]
pub struct ContentChange {
    /// `content.published` or `content.updated`.
    #[graphql(name = "type")]
    pub event_type: String,
    pub content: Content,
    pub occurred_at: DateTime<Utc>,
}

/// Events as a stream; a subscriber that lags skips what it missed.
fn committed(
    receiver: broadcast::Receiver<Arc<event::Model>>,
) -> impl Stream<Item = Arc<event::Model>> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind and skipped events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// What each subscription needs: who subscribes, the database, fresh loaders per event,
/// and the events.
struct Subscriber {
    actor: Arc<Actor>,
    db: Db,
    forget: Forget,
}

fn subscriber(
    ctx: &Context<'_>,
    field: &str,
) -> async_graphql::Result<(Subscriber, broadcast::Receiver<Arc<event::Model>>)> {
    let actor = actor(ctx)?;
    if let Some(grant) = &actor.api_key {
        if let Some(why) = scopes::refusal(&grant.scopes, field) {
            return Err(AppError::Forbidden(why).extend());
        }
    }
    let bus = ctx.data::<Arc<EventBus>>()?;
    let receiver = bus.subscribe();
    Ok((
        Subscriber {
            actor,
            db: ctx.data::<Db>()?.clone(),
            forget: ctx.data::<Loaders>()?.forgetter(),
        },
        receiver,
    ))
}

impl Subscriber {
    /// `event` if it is of a kind `wanted` accepts and the subscriber may see it.
    async fn sees(&self, event: &event::Model, wanted: fn(EventType) -> bool) -> Option<EventType> {
        let ty = EventType::parse(&event.event_type).filter(|t| wanted(*t))?;
        match may_see(&self.db, &self.actor, event).await {
            Ok(true) => {
                self.forget.forget();
                Some(ty)
            }
            Ok(false) => None,
            Err(err) => {
                tracing::warn!(error = %err, "subscription could not check an event");
                None
            }
        }
    }
}

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Deal registrations the caller can see, as they are submitted, approved, rejected,
    /// returned, expired, won or lost.
    async fn deal_registration_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = DealRegistrationChange>> {
        let (subscriber, receiver) = subscriber(ctx, "dealRegistrationChanged")?;
        let subscriber = Arc::new(subscriber);
        Ok(committed(receiver).filter_map(move |event| {
            let subscriber = subscriber.clone();
            async move {
                subscriber.sees(&event, EventType::is_deal).await?;
                let found =
                    crate::deals::find_for(&subscriber.db, &subscriber.actor, event.subject_id)
                        .await
                        .ok()??;
                Some(DealRegistrationChange {
                    event_type: event.event_type.clone(),
                    registration: DealRegistration(found),
                    occurred_at: event.created_at,
                })
            }
        }))
    }

    /// Content the caller can read, as it is published or changed.
    async fn content_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ContentChange>> {
        let (subscriber, receiver) = subscriber(ctx, "contentChanged")?;
        let subscriber = Arc::new(subscriber);
        let is_content = |ty: EventType| ty.subject_kind() == "Content";
        Ok(committed(receiver).filter_map(move |event| {
            let subscriber = subscriber.clone();
            async move {
                subscriber.sees(&event, is_content).await?;
                let found =
                    crate::content::find_for(&subscriber.db, &subscriber.actor, event.subject_id)
                        .await
                        .ok()??;
                Some(ContentChange {
                    event_type: event.event_type.clone(),
                    content: Content(found),
                    occurred_at: event.created_at,
                })
            }
        }))
    }
}
