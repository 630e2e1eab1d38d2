//! The audit log: every mutation, as it was run, in an append-only table; managers read all
//! of it, a partner's org admins their own organisation's part. Entries are written after the
//! mutation answered and before the response leaves, so an acknowledged change has its entry;
//! a retention job removes entries older than the configured time.

pub mod entry;
pub mod policy;
mod types;

use std::time::Duration;

use chrono::Utc;
use entity::audit_event as audit;
use entity::enums::{AuditVia, Role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use crate::auth::{Actor, ClientAddr};
use crate::db::Db;
use crate::error::AppResult;

pub use types::{find_visible, AuditEvent, AuditQuery};

pub const NODE_KIND: &str = "AuditEvent";

/// Who ran a mutation.
pub struct Who {
    pub actor_id: Option<i64>,
    pub role: Option<Role>,
    pub partner_id: Option<i64>,
    pub via: AuditVia,
    pub api_key_id: Option<i64>,
}

impl Who {
    pub fn of(actor: Option<&Actor>) -> Who {
        match actor {
            Some(actor) => Who {
                actor_id: Some(actor.user_id),
                role: Some(actor.role),
                partner_id: actor.partner_id,
                via: if actor.api_key.is_some() {
                    AuditVia::ApiKey
                } else {
                    AuditVia::Session
                },
                api_key_id: actor.api_key.as_ref().map(|k| k.id),
            },
            None => Who {
                actor_id: None,
                role: None,
                partner_id: None,
                via: AuditVia::Anonymous,
                api_key_id: None,
            },
        }
    }
}

/// Writes one mutation's entry.
pub async fn record(
    db: &Db,
    who: Who,
    addr: ClientAddr,
    operation_name: Option<&str>,
    entry: entry::Entry,
) -> AppResult<()> {
    audit::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(who.actor_id),
        actor_role: Set(who.role),
        partner_id: Set(who.partner_id),
        via: Set(who.via),
        api_key_id: Set(who.api_key_id),
        client_address: Set(addr.0.map(|ip| ip.to_string())),
        operation_name: Set(operation_name.map(|n| n.chars().take(200).collect())),
        fields: Set(entry.fields.join(",")),
        object_ids: Set(serde_json::to_string(&entry.object_ids).unwrap_or_else(|_| "[]".into())),
        outcome: Set(entry.outcome),
        error_codes: Set(serde_json::to_string(&entry.error_codes).unwrap_or_else(|_| "[]".into())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Keeps the entry of a mutation operation that ran; a failure to write it is logged, not
/// answered (the change it describes is already committed).
pub async fn keep(
    db: &Db,
    actor: Option<&Actor>,
    addr: ClientAddr,
    document: &async_graphql::parser::types::ExecutableDocument,
    operation: Option<&str>,
    variables: &async_graphql::Variables,
    response: &async_graphql::Response,
) {
    let entry = entry::of(document, operation, variables, response);
    if let Err(error) = record(db, Who::of(actor), addr, operation, entry).await {
        tracing::error!(%error, "an audit entry was not written");
    }
}

/// Rows removed per statement: a large backlog leaves in steps, never one long lock.
const PRUNE_BATCH: u64 = 5_000;

/// Removes entries older than `keep`; how many.
pub async fn prune(db: &Db, keep: Duration) -> AppResult<u64> {
    let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    let mut removed = 0;
    loop {
        let oldest = audit::Entity::find()
            .select_only()
            .column(audit::Column::Id)
            .filter(audit::Column::At.lt(cutoff))
            .order_by_asc(audit::Column::Id)
            .limit(PRUNE_BATCH)
            .into_query();
        let done = audit::Entity::delete_many()
            .filter(audit::Column::Id.in_subquery(oldest))
            .exec(db)
            .await?
            .rows_affected;
        removed += done;
        if done < PRUNE_BATCH {
            return Ok(removed);
        }
    }
}

/// Every replica runs it: deleting what is past retention twice removes nothing twice.
pub fn spawn_retention_job(db: Db, keep: Duration, period: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            match prune(&db, keep).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "audit events past retention removed"),
                Err(error) => tracing::warn!(%error, "audit retention failed; retrying next run"),
            }
        }
    });
}
