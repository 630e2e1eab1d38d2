//! The delivery worker every replica runs: it wakes on each committed event (the bus) and
//! at least every second, fans new events out to endpoints, and attempts what is due. The
//! claims in `deliveries` let replicas share the work without sending anything twice.

use std::sync::Arc;
use std::time::Duration;

use super::deliveries::{self, Claimed};
use crate::config::WebhookConfig;
use crate::db::Db;
use crate::error::AppResult;
use crate::integrations::bus::EventBus;

const TICK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    config: Arc<WebhookConfig>,
    client: reqwest::Client,
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
            .map_err(crate::error::AppError::internal)?;
        Ok(Dispatcher {
            db,
            config: Arc::new(config),
            client,
        })
    }

    /// One round: fan out what was committed, then attempt everything due (concurrently;
    /// each delivery on its own). How many attempts it made.
    pub async fn run_once(&self) -> AppResult<usize> {
        while deliveries::fan_out(&self.db).await? > 0 {}
        let mut attempted = 0;
        loop {
            let claimed = deliveries::claim_due(&self.db, &self.config).await?;
            if claimed.is_empty() {
                return Ok(attempted);
            }
            attempted += claimed.len();
            let rounds = claimed.iter().map(|c| self.deliver(c));
            for result in futures_util::future::join_all(rounds).await {
                result?;
            }
        }
    }

    async fn deliver(&self, claimed: &Claimed) -> AppResult<()> {
        if claimed.endpoint.disabled_at.is_some() {
            return deliveries::cancel(&self.db, claimed).await;
        }
        let attempt = deliveries::attempt(&self.client, &self.config, claimed).await;
        deliveries::record(&self.db, &self.config, claimed, &attempt).await
    }

    /// Runs rounds for as long as the process lives.
    pub fn spawn(self, bus: Arc<EventBus>) {
        tokio::spawn(async move {
            let mut events = bus.subscribe();
            loop {
                if let Err(err) = self.run_once().await {
                    tracing::warn!(error = %err, "webhook round failed");
                }
                // Whichever comes first: a committed event, or the tick (retries come due
                // on the clock, and other replicas' events may be ours to send).
                tokio::select! {
                    _ = events.recv() => {}
                    () = tokio::time::sleep(TICK) => {}
                }
            }
        });
    }
}
