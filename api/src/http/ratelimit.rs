//! Rate limits per API key, per signed-in user and, for anonymous callers, per client
//! address, in fixed windows.
//!
//! Every replica decides locally, at no cost to the request, from what it counted itself
//! plus what the database last said every replica had counted; once a second it adds its
//! own counts to the shared window rows (`rate_windows`) and reads the totals back. The
//! limits therefore hold across replicas to within about a second of traffic.
//!
//! A request costs 1, plus 1 for every 100 selections its document expands to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::Utc;
use entity::rate_window;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::auth::Viewer;
use crate::config::RateLimits;
use crate::db::Db;
use crate::error::AppResult;

/// Buckets one replica tracks at most; past it, new buckets are not tracked locally until
/// the next window (an address flood cannot grow the map without end).
const MAX_BUCKETS: usize = 100_000;
const SYNC_EVERY: Duration = Duration::from_secs(1);
const SYNC_CHUNK: usize = 300;

/// Which of a caller's budgets a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Key,
    User,
    Address,
}

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::Key => "key",
            Policy::User => "user",
            Policy::Address => "address",
        }
    }
}

/// Where a request stands in its tightest budget: for the `RateLimit` headers, and whether
/// it may run.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub policy: Policy,
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset: u64,
    pub window: u64,
    pub allowed: bool,
}

impl Verdict {
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.policy.name(),
            self.limit,
            self.window
        )
    }

    /// `RateLimit`.
    pub fn state_header(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.policy.name(),
            self.remaining,
            self.reset
        )
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    window_start: i64,
    /// Spent here and not yet added to the shared row.
    unsynced: u64,
    /// Being added to the shared row right now.
    in_flight: u64,
    /// The shared row's total when last read (this replica's synced spending included).
    shared: u64,
}

impl Bucket {
    fn spent(&self) -> u64 {
        self.shared + self.in_flight + self.unsynced
    }
}

pub struct RateLimiter {
    limits: RateLimits,
    db: Db,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
    syncing: OnceLock<()>,
}

/// The cost of a request whose document expands to `selections`.
pub fn cost(selections: u64) -> u64 {
    1 + selections / 100
}

impl RateLimiter {
    pub fn new(db: Db, limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            db,
            buckets: Arc::default(),
            syncing: OnceLock::new(),
        }
    }

    fn window_seconds(&self) -> i64 {
        self.limits.window.as_secs().max(1) as i64
    }

    /// The bucket `viewer` at `address` spends from, with its limit: its key's, its user's,
    /// or, for an anonymous caller, its address's. Signed-in callers are not limited by
    /// address: behind a proxy that is not trusted (or a corporate NAT) every user would
    /// share one address's budget.
    fn budgets(
        &self,
        viewer: &Viewer,
        address: Option<std::net::IpAddr>,
    ) -> Vec<(Policy, String, u64)> {
        let budget = match viewer {
            Viewer::User(actor) => match &actor.api_key {
                Some(key) => Some((Policy::Key, format!("k:{}", key.id), self.limits.per_key)),
                None => Some((
                    Policy::User,
                    format!("u:{}", actor.user_id),
                    self.limits.per_user,
                )),
            },
            Viewer::Anonymous => {
                address.map(|ip| (Policy::Address, format!("a:{ip}"), self.limits.per_address))
            }
        };
        budget
            .into_iter()
            .filter(|(_, _, limit)| *limit > 0)
            .collect()
    }

    /// Charges `cost` to every budget of the caller, unless one of them cannot afford it (then
    /// nothing is charged); the tightest budget's verdict. `None` when no limit applies.
    pub fn charge(
        &self,
        viewer: &Viewer,
        address: Option<std::net::IpAddr>,
        cost: u64,
    ) -> Option<Verdict> {
        let budgets = self.budgets(viewer, address);
        if budgets.is_empty() {
            return None;
        }
        self.start_syncing();
        let now = Utc::now().timestamp();
        let window = self.window_seconds();
        let start = now - now.rem_euclid(window);
        let reset = (start + window - now).max(1) as u64;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut states = Vec::with_capacity(budgets.len());
        for (policy, key, limit) in &budgets {
            let spent = match buckets.get(key) {
                Some(bucket) if bucket.window_start == start => bucket.spent(),
                _ => 0,
            };
            states.push((*policy, key, *limit, spent));
        }
        let allowed = states
            .iter()
            .all(|(_, _, limit, spent)| spent + cost <= *limit);
        if allowed {
            for (_, key, _, _) in &states {
                if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(*key) {
                    continue;
                }
                let bucket = buckets.entry((*key).clone()).or_default();
                if bucket.window_start != start {
                    *bucket = Bucket {
                        window_start: start,
                        ..Bucket::default()
                    };
                }
                bucket.unsynced += cost;
            }
        }
        let charged = if allowed { cost } else { 0 };
        states
            .iter()
            .map(|(policy, _, limit, spent)| Verdict {
                policy: *policy,
                limit: *limit,
                remaining: limit.saturating_sub(spent + charged),
                reset,
                window: window as u64,
                allowed: spent + cost <= *limit,
            })
            .min_by_key(|v| (v.allowed, v.remaining))
    }

    fn start_syncing(&self) {
        self.syncing.get_or_init(|| {
            let db = self.db.clone();
            let buckets = self.buckets.clone();
            let window = self.window_seconds();
            tokio::spawn(async move {
                let mut rounds = 0u64;
                loop {
                    tokio::time::sleep(SYNC_EVERY).await;
                    // Old rows are pruned once a minute.
                    let prune = rounds == 0;
                    rounds = (rounds + 1) % 60;
                    let shared = sync(&db, &buckets, window, prune).await;
                    settle(&buckets, shared.is_ok());
                    if let Err(err) = shared {
                        tracing::warn!(error = %err, "rate-limit counts not shared this round");
                    }
                }
            });
        });
    }
}

/// After a sync: what is still in flight was shared (and read back) if it succeeded; if it
/// failed, it is spending still to share.
fn settle(buckets: &Mutex<HashMap<String, Bucket>>, shared: bool) {
    let mut map = buckets.lock().unwrap_or_else(PoisonError::into_inner);
    for bucket in map.values_mut() {
        let in_flight = std::mem::take(&mut bucket.in_flight);
        if !shared {
            bucket.unsynced += in_flight;
        } else if in_flight > 0 {
            // Shared but not read back (the read raced a new window): count it as shared.
            bucket.shared += in_flight;
        }
    }
}

/// Adds this replica's unsynced spending to the shared rows and reads every live bucket's
/// total back; drops buckets of past windows (and, now and then, old rows).
async fn sync(
    db: &Db,
    buckets: &Mutex<HashMap<String, Bucket>>,
    window: i64,
    prune: bool,
) -> AppResult<()> {
    // On the replica's own clock: counted apart from requests' statements.
    let db = &db.background();
    let now = Utc::now().timestamp();
    let start = now - now.rem_euclid(window);
    let (spent, live): (Vec<(String, u64)>, Vec<String>) = {
        let mut map = buckets.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, b| b.window_start == start);
        let spent = map
            .iter_mut()
            .filter(|(_, b)| b.unsynced > 0)
            .map(|(k, b)| {
                b.in_flight = std::mem::take(&mut b.unsynced);
                (k.clone(), b.in_flight)
            })
            .collect();
        (spent, map.keys().cloned().collect())
    };
    for chunk in spent.chunks(SYNC_CHUNK) {
        let rows = chunk.iter().map(|(bucket, cost)| rate_window::ActiveModel {
            bucket: Set(bucket.clone()),
            window_start: Set(start),
            cost: Set(*cost as i64),
        });
        rate_window::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    rate_window::Column::Bucket,
                    rate_window::Column::WindowStart,
                ])
                .value(
                    rate_window::Column::Cost,
                    Expr::col((rate_window::Entity, rate_window::Column::Cost))
                        .add(Expr::cust("excluded.cost")),
                )
                .to_owned(),
            )
            .exec(db)
            .await?;
    }
    for chunk in live.chunks(SYNC_CHUNK) {
        let totals = rate_window::Entity::find()
            .filter(rate_window::Column::WindowStart.eq(start))
            .filter(rate_window::Column::Bucket.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        let mut map = buckets.lock().unwrap_or_else(PoisonError::into_inner);
        for row in totals {
            if let Some(bucket) = map.get_mut(&row.bucket) {
                if bucket.window_start == start {
                    bucket.shared = row.cost.max(0) as u64;
                    // The total read includes what was in flight.
                    bucket.in_flight = 0;
                }
            }
        }
    }
    if prune {
        rate_window::Entity::delete_many()
            .filter(rate_window::Column::WindowStart.lt(start - 2 * window))
            .exec(db)
            .await?;
    }
    Ok(())
}
