//! Deliveries: the outbox's events fanned out to the endpoints that may receive them, then
//! attempted until they succeed or give up. Several replicas share the work: each claim
//! takes rows no other replica holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has a
//! single writer), and a claimed delivery is held (`locked_until`) while it is attempted, so
//! one event goes to one endpoint one attempt at a time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{event, webhook_attempt, webhook_delivery, webhook_endpoint};
use rand::Rng;
use sea_orm::sea_query::LockBehavior;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::super::audience;
use super::endpoints::{receiver, subscribed};
use crate::config::WebhookConfig;
use crate::db::{begin_write, Db};
use crate::error::AppResult;
use crate::events::EventType;

pub const PENDING: &str = "PENDING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const FAILED: &str = "FAILED";

/// Events fanned out per claim, and deliveries attempted per claim.
const FAN_OUT_BATCH: u64 = 200;
const ATTEMPT_BATCH: u64 = 200;
/// A claimed delivery is held this long past its attempt's timeout (a replica that dies
/// mid-attempt releases it when the hold runs out).
const HOLD_MARGIN: Duration = Duration::from_secs(30);
/// Retries wait at most this long between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How much of an endpoint's answer is kept in the delivery log.
const KEPT_ERROR_CHARS: usize = 300;

/// New pending deliveries of `events` to `endpoint_id`, due now; their ids.
pub async fn queue(db: &Db, endpoint_id: i64, events: &[i64]) -> AppResult<Vec<i64>> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(events.len());
    for chunk in events.chunks(INSERT_CHUNK) {
        let txn = begin_write(db).await?;
        for &event_id in chunk {
            let delivery = pending(endpoint_id, event_id, now).insert(&txn).await?;
            ids.push(delivery.id);
        }
        txn.commit().await?;
    }
    Ok(ids)
}

/// Rows written per INSERT (eight values each, well under either database's bind limit).
const INSERT_CHUNK: usize = 500;

fn pending(endpoint_id: i64, event_id: i64, now: DateTime<Utc>) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        endpoint_id: Set(endpoint_id),
        event_id: Set(event_id),
        status: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
}

/// Turns undispatched events into deliveries for every enabled endpoint that subscribes to
/// them and may receive them; how many events it dispatched. Who receives what is worked
/// out before the write transaction, which then claims the events (skipping any another
/// replica holds) and writes only the claimed ones' deliveries.
pub async fn fan_out(db: &Db) -> AppResult<usize> {
    let candidates = event::Entity::find()
        .filter(event::Column::DispatchedAt.is_null())
        .order_by_asc(event::Column::Id)
        .limit(FAN_OUT_BATCH)
        .all(&db.background())
        .await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let targets = targets(db, &candidates).await?;
    let txn = begin_write(db).await?;
    let claimed: Vec<i64> = event::Entity::find()
        .filter(event::Column::Id.is_in(candidates.iter().map(|e| e.id)))
        .filter(event::Column::DispatchedAt.is_null())
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let now = Utc::now();
    let rows: Vec<_> = targets
        .iter()
        .filter(|(event_id, _)| claimed.contains(event_id))
        .map(|&(event_id, endpoint_id)| pending(endpoint_id, event_id, now))
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    if !claimed.is_empty() {
        event::Entity::update_many()
            .col_expr(event::Column::DispatchedAt, Some(now).into())
            .filter(event::Column::Id.is_in(claimed.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(claimed.len())
}

/// The (event, endpoint) pairs to deliver: enabled endpoints that existed when the event
/// happened, subscribed to its type, whose organisation may see it (a replay sends what
/// came before an endpoint).
async fn targets(db: &Db, events: &[event::Model]) -> AppResult<Vec<(i64, i64)>> {
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::DisabledAt.is_null())
        .all(db)
        .await?;
    let receivers: Vec<_> = endpoints
        .iter()
        .map(|e| (e.id, e.created_at, subscribed(e), receiver(e)))
        .collect();
    let mut pairs = Vec::new();
    for event in events {
        let Some(ty) = EventType::parse(&event.event_type) else {
            continue;
        };
        for (endpoint_id, since, types, as_receiver) in &receivers {
            if *since <= event.created_at
                && types.contains(&ty)
                && audience::may_see(db, as_receiver, event).await?
            {
                pairs.push((event.id, *endpoint_id));
            }
        }
    }
    Ok(pairs)
}

/// A delivery held by this replica, with what its attempt needs.
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub endpoint: webhook_endpoint::Model,
    pub event: event::Model,
}

/// Takes up to `limit` due deliveries that no one holds, holding them for an attempt.
pub async fn claim_due(db: &Db, config: &WebhookConfig, limit: u64) -> AppResult<Vec<Claimed>> {
    let now = Utc::now();
    let free = Condition::any()
        .add(webhook_delivery::Column::LockedUntil.is_null())
        .add(webhook_delivery::Column::LockedUntil.lt(now));
    let due = || {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(free.clone())
    };
    if due().limit(1).one(&db.background()).await?.is_none() {
        return Ok(vec![]);
    }
    let txn = begin_write(db).await?;
    let taken = due()
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(limit.min(ATTEMPT_BATCH))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    let hold = now
        + chrono::Duration::from_std(config.attempt_timeout + HOLD_MARGIN)
            .unwrap_or_else(|_| chrono::Duration::seconds(60));
    let ids: Vec<i64> = taken.iter().map(|d| d.id).collect();
    if !ids.is_empty() {
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::LockedUntil, Some(hold).into())
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    with_context(db, taken).await
}

async fn with_context(db: &Db, taken: Vec<webhook_delivery::Model>) -> AppResult<Vec<Claimed>> {
    let endpoint_ids: Vec<i64> = taken.iter().map(|d| d.endpoint_id).collect();
    let event_ids: Vec<i64> = taken.iter().map(|d| d.event_id).collect();
    let endpoints: HashMap<i64, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let events: HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(taken
        .into_iter()
        .filter_map(|delivery| {
            Some(Claimed {
                endpoint: endpoints.get(&delivery.endpoint_id)?.clone(),
                event: events.get(&delivery.event_id)?.clone(),
                delivery,
            })
        })
        .collect())
}

/// The JSON body of `event`: `type`, `timestamp` and `data` (with the subject's global ID).
pub fn payload(event: &event::Model) -> String {
    let ty = EventType::parse(&event.event_type);
    let mut data = serde_json::from_str::<serde_json::Value>(&event.data)
        .ok()
        .and_then(|v| match v {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    if let Some(ty) = ty {
        let id = crate::relay::global_id(ty.subject_kind(), event.subject_id);
        data.insert("id".into(), id.to_string().into());
    }
    if let Some(partner) = event.partner_id {
        let id = crate::relay::global_id(crate::partners::NODE_KIND, partner);
        data.insert("partnerId".into(), id.to_string().into());
    }
    serde_json::json!({
        "type": event.event_type,
        "timestamp": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The `webhook-id` of `event`: the same for every attempt and replay, so receivers can
/// drop duplicates.
pub fn message_id(event: &event::Model) -> String {
    format!("evt_{}", event.id)
}

/// What one attempt came to.
pub struct Attempt {
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Timeouts, connection failures, 408, 429 and 5xx are worth retrying; any other
    /// answer (a 4xx, a redirect, a refused address) will not change by waiting.
    fn retryable(&self) -> bool {
        match self.status {
            Some(status) => status == 408 || status == 429 || status >= 500,
            None => !self
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("refused:")),
        }
    }
}

/// Sends `claimed` once, signed as Standard Webhooks asks.
pub async fn attempt(
    client: &reqwest::Client,
    config: &WebhookConfig,
    claimed: &Claimed,
) -> Attempt {
    let started_at = Utc::now();
    let clock = Instant::now();
    let done = |status: Option<u16>, error: Option<String>| Attempt {
        started_at,
        duration: clock.elapsed(),
        status,
        error,
    };
    if let Some(why) = super::ssrf::refuse_url(&claimed.endpoint.url, config.allow_private) {
        return done(None, Some(format!("refused: the URL {why}")));
    }
    let body = payload(&claimed.event);
    let id = message_id(&claimed.event);
    let timestamp = started_at.timestamp();
    let signature = match standardwebhooks::Webhook::new(&claimed.endpoint.secret)
        .and_then(|signer| signer.sign(&id, timestamp, body.as_bytes()))
    {
        Ok(signature) => signature,
        Err(err) => return done(None, Some(format!("refused: cannot sign: {err}"))),
    };
    let sent = client
        .post(&claimed.endpoint.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("PartnerGraph-Webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header(standardwebhooks::HEADER_WEBHOOK_ID, &id)
        .header(
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            timestamp.to_string(),
        )
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
        .timeout(config.attempt_timeout)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => done(Some(response.status().as_u16()), None),
        Err(err) if err.is_timeout() => done(None, Some("timed out".into())),
        Err(err) => done(None, Some(describe(&err))),
    }
}

/// A transport error with its causes (reqwest's own message says only "error sending
/// request").
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(KEPT_ERROR_CHARS).collect()
}

/// The wait before retry number `attempts` (1 after the first failure): doubling from
/// `first`, at most an hour, with up to a fifth of jitter so that retries of many
/// deliveries spread out.
pub fn backoff(first: Duration, attempts: u32) -> Duration {
    let doubled = first.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let base = doubled.min(MAX_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0.0..0.2);
    base.mul_f64(1.0 + jitter)
}

/// What an attempt leaves a delivery as.
struct Decision {
    status: &'static str,
    next: DateTime<Utc>,
    /// Retried for `give_up_after` without success: the endpoint is disabled.
    give_up: bool,
}

fn decide(
    config: &WebhookConfig,
    claimed: &Claimed,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Decision {
    let age = (now - claimed.delivery.created_at)
        .to_std()
        .unwrap_or_default();
    let settled = |status| Decision {
        status,
        next: now,
        give_up: false,
    };
    if attempt.succeeded() {
        settled(SUCCEEDED)
    } else if !attempt.retryable() {
        settled(FAILED)
    } else if age >= config.give_up_after {
        Decision {
            give_up: true,
            ..settled(FAILED)
        }
    } else {
        let wait = backoff(config.first_retry, claimed.delivery.attempts as u32 + 1);
        let wait = chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::hours(1));
        Decision {
            next: now + wait,
            ..settled(PENDING)
        }
    }
}

/// Writes what a batch of attempts came to, in one transaction: each attempt's log line,
/// each delivery's new state (the successes in one statement), and the endpoints of
/// deliveries that gave up, disabled.
pub async fn record_all(
    db: &Db,
    config: &WebhookConfig,
    done: &[(Claimed, Attempt)],
) -> AppResult<()> {
    if done.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let log: Vec<webhook_attempt::ActiveModel> = done
        .iter()
        .map(|(claimed, attempt)| webhook_attempt::ActiveModel {
            delivery_id: Set(claimed.delivery.id),
            started_at: Set(attempt.started_at),
            duration_ms: Set(attempt.duration.as_millis().min(i32::MAX as u128) as i32),
            response_status: Set(attempt.status.map(i32::from)),
            error: Set(attempt.error.clone()),
            succeeded: Set(attempt.succeeded()),
            ..Default::default()
        })
        .collect();
    let txn = begin_write(db).await?;
    for chunk in log.chunks(INSERT_CHUNK) {
        webhook_attempt::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    let mut succeeded = Vec::new();
    for (claimed, attempt) in done {
        let decision = decide(config, claimed, attempt, now);
        if decision.status == SUCCEEDED {
            succeeded.push(claimed.delivery.id);
            continue;
        }
        let finished = (decision.status != PENDING).then_some(now);
        settle(decision.status, finished)
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                decision.next.into(),
            )
            .filter(webhook_delivery::Column::Id.eq(claimed.delivery.id))
            .exec(&txn)
            .await?;
        if decision.give_up {
            disable_after_failures(&txn, config, claimed, attempt, now).await?;
        }
    }
    for chunk in succeeded.chunks(INSERT_CHUNK) {
        settle(SUCCEEDED, Some(now))
            .filter(webhook_delivery::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The UPDATE that leaves deliveries `status` after one more attempt, released.
fn settle(
    status: &'static str,
    finished: Option<DateTime<Utc>>,
) -> sea_orm::UpdateMany<webhook_delivery::Entity> {
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, status.into())
        .col_expr(
            webhook_delivery::Column::Attempts,
            sea_orm::sea_query::Expr::col(webhook_delivery::Column::Attempts).add(1),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(webhook_delivery::Column::FinishedAt, finished.into())
}

async fn disable_after_failures(
    txn: &crate::db::WriteTxn,
    config: &WebhookConfig,
    claimed: &Claimed,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let last = attempt
        .status
        .map(|s| format!("HTTP {s}"))
        .or_else(|| attempt.error.clone())
        .unwrap_or_default();
    let reason = format!(
        "deliveries failed for {} hours (last: {last})",
        config.give_up_after.as_secs() / 3600
    );
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::DisabledAt, Some(now).into())
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Some(reason).into(),
        )
        .filter(webhook_endpoint::Column::Id.eq(claimed.endpoint.id))
        .filter(webhook_endpoint::Column::DisabledAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Deliveries to a disabled endpoint are not attempted: they fail, and a replay or
/// redelivery after re-enabling sends them again.
pub async fn cancel(db: &Db, claimed: &[Claimed]) -> AppResult<()> {
    if claimed.is_empty() {
        return Ok(());
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, FAILED.into())
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(
            webhook_delivery::Column::FinishedAt,
            Some(Utc::now()).into(),
        )
        .filter(webhook_delivery::Column::Id.is_in(claimed.iter().map(|c| c.delivery.id)))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: Option<u16>, error: Option<&str>) -> Attempt {
        Attempt {
            started_at: Utc::now(),
            duration: Duration::ZERO,
            status,
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(attempt(Some(500), None).retryable());
        assert!(attempt(Some(503), None).retryable());
        assert!(attempt(Some(429), None).retryable());
        assert!(attempt(Some(408), None).retryable());
        assert!(attempt(None, Some("timed out")).retryable());
        assert!(!attempt(Some(404), None).retryable());
        assert!(!attempt(Some(301), None).retryable());
        assert!(!attempt(None, Some("refused: private address")).retryable());
        assert!(attempt(Some(204), None).succeeded());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps_at_an_hour() {
        let first = Duration::from_secs(5);
        for (attempts, base) in [(1, 5), (2, 10), (3, 20), (4, 40)] {
            let wait = backoff(first, attempts).as_secs_f64();
            assert!(
                wait >= base as f64 && wait <= base as f64 * 1.2,
                "{attempts}: {wait}"
            );
        }
        assert!(backoff(first, 40) <= MAX_BACKOFF.mul_f64(1.2));
        assert!(backoff(first, 40) >= MAX_BACKOFF);
    }

    #[test]
    fn payloads_carry_type_time_and_global_ids() {
        let event = event::Model {
            id: 7,
            event_type: "deal_registration.approved".into(),
            subject_id: 42,
            partner_id: Some(3),
            data: r#"{"status":"APPROVED"}"#.into(),
            created_at: Utc::now(),
            dispatched_at: None,
        };
        let body: serde_json::Value = serde_json::from_str(&payload(&event)).unwrap();
        assert_eq!(body["type"], "deal_registration.approved");
        assert_eq!(body["data"]["status"], "APPROVED");
        let id = body["data"]["id"].as_str().unwrap();
        assert_eq!(
            crate::relay::decode_global_id(id),
            Some(("DealRegistration".into(), 42))
        );
        assert_eq!(message_id(&event), "evt_7");
    }
}
