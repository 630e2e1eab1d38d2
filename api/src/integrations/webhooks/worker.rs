//! The delivery worker every replica runs: it wakes on each committed event (the bus) and
//! at least every second, fans new events out to endpoints, and starts what is due. The
//! claims in `deliveries` let replicas share the work without sending anything twice.
//!
//! Attempts run concurrently, up to `IN_FLIGHT` per replica; a batch's results are written
//! together as they complete. The worker never waits for a slow endpoint before claiming
//! more: a batch holds only its own slots.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::deliveries::{self, Claimed};
use crate::config::WebhookConfig;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::integrations::bus::EventBus;

const TICK: Duration = Duration::from_secs(1);
/// How long the worker waits after an event for the rest of its burst.
const BURST: Duration = Duration::from_millis(25);
/// Attempts one replica runs at once.
const IN_FLIGHT: usize = 256;
/// Attempts of one batch whose results are written in one transaction.
const RECORD_CHUNK: usize = 64;

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    config: Arc<WebhookConfig>,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
    /// Rung when a batch finishes: its slots are free for what is due.
    finished: Arc<tokio::sync::Notify>,
    /// Attempts by outcome, in the replica's metrics (none in tests that build their own).
    attempts: Option<prometheus::IntCounterVec>,
}

impl Dispatcher {
    pub fn new(db: Db, config: WebhookConfig) -> AppResult<Dispatcher> {
        let client = reqwest::Client::builder()
            // Following a redirect would let an endpoint point the worker anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(super::ssrf::resolver(config.allow_private))
            .connect_timeout(config.attempt_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(AppError::internal)?;
        Ok(Dispatcher {
            db,
            config: Arc::new(config),
            client,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            finished: Arc::default(),
            attempts: None,
        })
    }

    /// Counts attempts in `metrics` too.
    pub fn with_metrics(mut self, metrics: &crate::http::observe::Metrics) -> Self {
        self.attempts = Some(metrics.webhook_attempts.clone());
        self
    }

    /// Fans out what was committed and starts every due delivery there are slots for; how
    /// many it started. Returns without waiting for them.
    async fn pump(&self) -> AppResult<usize> {
        // One batch of events per round, then deliveries: under a steady stream of events,
        // fanning out until none is left would never get to sending them.
        let fanned = deliveries::fan_out(&self.db).await?;
        if fanned > 0 {
            // More may be waiting: the next round comes at once.
            self.finished.notify_one();
        }
        let mut started = 0;
        loop {
            let free = self.slots.available_permits();
            if free == 0 {
                return Ok(started);
            }
            let claimed = deliveries::claim_due(&self.db, &self.config, free as u64).await?;
            if claimed.is_empty() {
                return Ok(started);
            }
            let slots = self
                .slots
                .clone()
                .acquire_many_owned(claimed.len() as u32)
                .await
                .map_err(AppError::internal)?;
            started += claimed.len();
            let this = self.clone();
            tokio::spawn(async move {
                if let Err(err) = this.deliver(claimed).await {
                    tracing::warn!(error = %err, "webhook batch failed; its deliveries are retried when their hold runs out");
                }
                drop(slots);
                this.finished.notify_one();
            });
        }
    }

    /// One round, finished: fan out, attempt everything due, and wait for the attempts.
    /// How many it attempted.
    pub async fn run_once(&self) -> AppResult<usize> {
        while deliveries::fan_out(&self.db).await? > 0 {}
        let started = self.pump().await?;
        let all = self
            .slots
            .acquire_many(IN_FLIGHT as u32)
            .await
            .map_err(AppError::internal)?;
        drop(all);
        Ok(started)
    }

    async fn deliver(&self, claimed: Vec<Claimed>) -> AppResult<()> {
        let (off, on): (Vec<Claimed>, Vec<Claimed>) = claimed
            .into_iter()
            .partition(|c| c.endpoint.disabled_at.is_some());
        deliveries::cancel(&self.db, &off).await?;
        let client = self.client.clone();
        let config = self.config.clone();
        let mut results = futures_util::stream::iter(on)
            .map(move |claimed| {
                let client = client.clone();
                let config = config.clone();
                async move {
                    let attempt = deliveries::attempt(&client, &config, &claimed).await;
                    (claimed, attempt)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .ready_chunks(RECORD_CHUNK);
        while let Some(done) = results.next().await {
            deliveries::record_all(&self.db, &self.config, &done).await?;
            if let Some(attempts) = &self.attempts {
                let succeeded = done.iter().filter(|(_, a)| a.succeeded()).count() as u64;
                attempts.with_label_values(&["succeeded"]).inc_by(succeeded);
                attempts
                    .with_label_values(&["failed"])
                    .inc_by(done.len() as u64 - succeeded);
            }
        }
        Ok(())
    }

    /// Runs rounds for as long as the process lives.
    pub fn spawn(self, bus: Arc<EventBus>) {
        tokio::spawn(async move {
            let mut events = bus.subscribe();
            loop {
                if let Err(err) = self.pump().await {
                    tracing::warn!(error = %err, "webhook round failed");
                }
                // Whichever comes first: a committed event, a batch done (its slots free
                // for what is still due), or the tick (retries come due on the clock, and
                // other replicas' events may be ours to send).
                let woken_by_event = tokio::select! {
                    _ = events.recv() => true,
                    () = self.finished.notified() => false,
                    () = tokio::time::sleep(TICK) => false,
                };
                if woken_by_event {
                    // Events come in bursts: one round for the burst rather than one per
                    // event, each of which is a write on SQLite's single writer.
                    tokio::time::sleep(BURST).await;
                    while events.try_recv().is_ok() {}
                }
            }
        });
    }
}
