//! Webhook endpoints: who registers them (as for API keys: channel managers for the
//! program, a partner's organisation admin for its organisation), what they subscribe to,
//! and replays of past events.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{event, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use super::super::{audience, text};
use super::deliveries;
use crate::auth::Actor;
use crate::config::WebhookConfig;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::EventType;
use crate::relay::{UserError, UserErrorCode};

const MAX_ENDPOINTS: u64 = 20;
/// A replay re-sends at most this many events (replay again from the last one's time).
pub const MAX_REPLAY: u64 = 10_000;

pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub partner_id: Option<i64>,
}

pub struct Created {
    pub endpoint: webhook_endpoint::Model,
    pub secret: String,
}

/// The endpoints `actor` manages; `None` for callers who manage none.
pub fn manageable(actor: &Actor) -> Option<Select<webhook_endpoint::Entity>> {
    let all = webhook_endpoint::Entity::find();
    match actor.role {
        Role::ChannelManager => Some(all),
        Role::Partner if actor.is_org_admin || actor.api_key.is_some() => {
            Some(all.filter(webhook_endpoint::Column::PartnerId.eq(actor.partner_id?)))
        }
        _ => None,
    }
}

/// The organisation an endpoint `actor` registers receives events for.
fn owner_for(actor: &Actor, partner_id: Option<i64>) -> Result<Option<i64>, UserError> {
    match (actor.role, partner_id, actor.partner_id) {
        (Role::ChannelManager, None, _) => Ok(None),
        (Role::ChannelManager, Some(_), _) => Err(UserError::new(
            "partnerId",
            UserErrorCode::RuleViolation,
            "a channel manager's endpoints receive the whole program; a partner's \
             organisation admin registers that partner's",
        )),
        (Role::Partner, None, Some(own)) => Ok(Some(own)),
        (Role::Partner, Some(asked), Some(own)) if asked == own => Ok(Some(own)),
        _ => Err(UserError::new(
            "partnerId",
            UserErrorCode::NotFound,
            "no such partner",
        )),
    }
}

fn parse_events(events: &[String]) -> Result<Vec<EventType>, UserError> {
    if events.is_empty() {
        return Err(UserError::new(
            "events",
            UserErrorCode::Required,
            "name at least one event type",
        ));
    }
    events
        .iter()
        .enumerate()
        .map(|(i, name)| {
            EventType::parse(name.trim()).ok_or_else(|| {
                UserError::new(
                    &format!("events.{i}"),
                    UserErrorCode::Invalid,
                    format!(
                        "unknown event type `{}`",
                        name.chars().take(64).collect::<String>()
                    ),
                )
            })
        })
        .collect()
}

/// The event types an endpoint subscribes to, as stored.
pub fn subscribed(endpoint: &webhook_endpoint::Model) -> Vec<EventType> {
    endpoint
        .events
        .split(',')
        .filter_map(EventType::parse)
        .collect()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    config: &WebhookConfig,
    new: NewEndpoint,
) -> AppResult<Result<Created, Vec<UserError>>> {
    let select = manageable(actor).ok_or_else(AppError::forbidden)?;
    let mut errors = Vec::new();
    let owner = owner_for(actor, new.partner_id)
        .map_err(|e| errors.push(e))
        .ok();
    let url = text::required("url", &new.url, 2000)
        .and_then(
            |url| match super::ssrf::refuse_url(&url, config.allow_private) {
                Some(why) => Err(UserError::new("url", UserErrorCode::Invalid, why)),
                None => Ok(url),
            },
        )
        .map_err(|e| errors.push(e))
        .ok();
    let events = parse_events(&new.events).map_err(|e| errors.push(e)).ok();
    let description = text::optional("description", new.description.as_deref(), 500)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(owner), Some(url), Some(mut events), Some(description)) =
        (owner, url, events, description)
    else {
        return Ok(Err(errors));
    };
    if events.contains(&EventType::DealConflictDetected) && owner.is_some() {
        return Ok(Err(UserError::one(
            "events",
            UserErrorCode::RuleViolation,
            "deal_registration.conflict_detected is for the vendor's channel managers",
        )));
    }
    if select.count(db).await? >= MAX_ENDPOINTS {
        return Ok(Err(UserError::one(
            "url",
            UserErrorCode::RuleViolation,
            format!("at most {MAX_ENDPOINTS} endpoints; disable or remove one first"),
        )));
    }
    events.sort_by_key(|e| e.name());
    events.dedup();
    let secret = new_secret();
    let endpoint = webhook_endpoint::ActiveModel {
        url: Set(url),
        events: Set(events
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(",")),
        description: Set(description),
        partner_id: Set(owner),
        created_by_id: Set(actor.user_id),
        secret: Set(secret.clone()),
        created_at: Set(Utc::now()),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Ok(Created { endpoint, secret }))
}

/// The endpoint `id` if `actor` manages it, else `NOT_FOUND`.
pub async fn find(db: &Db, actor: &Actor, id: i64) -> AppResult<webhook_endpoint::Model> {
    manageable(actor)
        .ok_or_else(AppError::forbidden)?
        .filter(webhook_endpoint::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("no such webhook endpoint"))
}

/// Turns deliveries to `endpoint` off (with why) or back on.
pub async fn set_disabled(
    db: &Db,
    endpoint: webhook_endpoint::Model,
    reason: Option<String>,
) -> AppResult<webhook_endpoint::Model> {
    let mut active: webhook_endpoint::ActiveModel = endpoint.into();
    active.disabled_at = Set(reason.as_ref().map(|_| Utc::now()));
    active.disabled_reason = Set(reason);
    Ok(active.update(db).await?)
}

/// The caller an endpoint receives events as: its organisation (or the program).
pub fn receiver(endpoint: &webhook_endpoint::Model) -> Actor {
    let role = match endpoint.partner_id {
        Some(_) => Role::Partner,
        None => Role::ChannelManager,
    };
    Actor::new(endpoint.created_by_id, role, endpoint.partner_id, 0)
}

/// Queues again every event since `since` that `endpoint` subscribes to and may receive;
/// how many.
pub async fn replay(
    db: &Db,
    endpoint: &webhook_endpoint::Model,
    since: DateTime<Utc>,
) -> AppResult<u64> {
    let types: Vec<&str> = subscribed(endpoint).iter().map(|t| t.name()).collect();
    let found = event::Entity::find()
        .filter(event::Column::CreatedAt.gte(since))
        .filter(event::Column::EventType.is_in(types))
        .order_by_asc(event::Column::Id)
        .limit(MAX_REPLAY)
        .all(db)
        .await?;
    let as_receiver = receiver(endpoint);
    let mut queued = Vec::new();
    for event in &found {
        if audience::may_see(db, &as_receiver, event).await? {
            queued.push(event.id);
        }
    }
    deliveries::queue(db, endpoint.id, &queued).await?;
    Ok(queued.len() as u64)
}

/// Queues one delivery again (as a new delivery of the same event).
pub async fn redeliver(
    db: &Db,
    delivery: &webhook_delivery::Model,
) -> AppResult<webhook_delivery::Model> {
    let ids = deliveries::queue(db, delivery.endpoint_id, &[delivery.event_id]).await?;
    webhook_delivery::Entity::find_by_id(ids[0])
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("queued delivery vanished"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_checked_one_by_one() {
        assert!(parse_events(&[]).is_err());
        let parsed = parse_events(&["deal_registration.approved".into()]).unwrap();
        assert_eq!(parsed, [EventType::DealApproved]);
        let error = parse_events(&["content.published".into(), "nope".into()]).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("events.1"));
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert!(standardwebhooks::Webhook::new(&secret).is_ok());
    }
}
