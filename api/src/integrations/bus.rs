//! Committed events, as they happen, for this replica's subscribers and webhook worker.
//! On PostgreSQL every replica LISTENs to the outbox's NOTIFY (sent in the transaction that
//! wrote the event, so only committed events are heard, on every replica). On SQLite,
//! where one process owns the database and a single writer commits events in id order,
//! the bus reads new rows of the outbox every 20 ms.
//!
//! The bus starts with its first subscriber. A subscriber that falls more than
//! `CAPACITY` events behind skips the oldest (subscriptions are live views; webhooks
//! read the outbox itself and lose nothing).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use entity::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::broadcast;

use crate::db::Db;
use crate::error::AppResult;
use crate::events::NOTIFY_CHANNEL;

const CAPACITY: usize = 4096;
const SQLITE_POLL: Duration = Duration::from_millis(20);
const RETRY: Duration = Duration::from_secs(1);

pub struct EventBus {
    db: Db,
    sender: broadcast::Sender<Arc<event::Model>>,
    started: OnceLock<()>,
}

impl EventBus {
    pub fn new(db: Db) -> Arc<EventBus> {
        let (sender, _) = broadcast::channel(CAPACITY);
        Arc::new(EventBus {
            db,
            sender,
            started: OnceLock::new(),
        })
    }

    /// Committed events from now on.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Arc<event::Model>> {
        let receiver = self.sender.subscribe();
        self.started.get_or_init(|| {
            let bus = self.clone();
            tokio::spawn(async move { bus.run().await });
        });
        receiver
    }

    async fn run(&self) {
        loop {
            let ended = match self.db.get_database_backend() {
                DbBackend::Postgres => self.listen().await,
                _ => self.poll().await,
            };
            if let Err(err) = ended {
                tracing::warn!(error = %err, "event bus interrupted; restarting");
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    async fn listen(&self) -> AppResult<()> {
        let pool = self.db.pool().get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(crate::error::AppError::internal)?;
        listener
            .listen(NOTIFY_CHANNEL)
            .await
            .map_err(crate::error::AppError::internal)?;
        let schema = crate::db::current_schema(&self.db).await?;
        // Reading the announced events is delivery, not the work of the request that wrote
        // them: it is counted with the replica's own statements (see `Db::background`).
        let reader = self.db.background();
        loop {
            let note = listener
                .recv()
                .await
                .map_err(crate::error::AppError::internal)?;
            let Some(id) =
                crate::db::in_schema(note.payload(), &schema).and_then(|id| id.parse::<i64>().ok())
            else {
                continue;
            };
            if let Some(found) = event::Entity::find_by_id(id).one(&reader).await? {
                let _ = self.sender.send(Arc::new(found));
            }
        }
    }

    /// Reads on the background pool (see `Db::background`).
    async fn poll(&self) -> AppResult<()> {
        let reader = self.db.background();
        let mut last = event::Entity::find()
            .order_by_desc(event::Column::Id)
            .one(&reader)
            .await?
            .map_or(0, |e| e.id);
        loop {
            tokio::time::sleep(SQLITE_POLL).await;
            let fresh = event::Entity::find()
                .filter(event::Column::Id.gt(last))
                .order_by_asc(event::Column::Id)
                .limit(500)
                .all(&reader)
                .await?;
            for found in fresh {
                last = found.id;
                let _ = self.sender.send(Arc::new(found));
            }
        }
    }
}
