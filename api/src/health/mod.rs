//! Partner health: an explainable score from leading indicators (registration and
//! engagement trends, training, deal recency, portal activity), the at-risk list, and a
//! daily snapshot per partner for its history.

pub mod model;
pub mod refresh;
pub mod service;
pub mod signals;
mod types;

pub use types::{
    health_field, history_field, HealthMutation, HealthQuery, HealthSnapshot, PartnerHealth,
};

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::db::Db;

/// A replica's health jobs, in one task so they never run at once: every `refresh_every`
/// the kept signals (`refresh::run_once`), then, every `snapshot_every`, the day's snapshot
/// (`service::snapshot`); both when the process starts. Run after the refresh, the
/// snapshot scores the signals it just kept instead of reading every partner's again: at
/// 20,000 partners a fresh replica's peak RSS went from 112-116 MB to 83-93 MB with the
/// snapshot's chunked writes.
pub fn spawn_jobs(db: Db, refresh_every: Duration, snapshot_every: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(refresh_every);
        let mut next_snapshot = Instant::now();
        loop {
            ticker.tick().await;
            match refresh::run_once(&db, Utc::now(), refresh_every).await {
                Ok(Some(n)) => tracing::debug!(rows = n, "partner health signals refreshed"),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "partner health signals refresh failed"),
            }
            if Instant::now() < next_snapshot {
                continue;
            }
            next_snapshot = Instant::now() + snapshot_every;
            match service::snapshot(&db, Utc::now()).await {
                Ok(Some(n)) => tracing::info!(partners = n, "partner health snapshot taken"),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "partner health snapshot failed"),
            }
        }
    });
}
