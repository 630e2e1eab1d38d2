//! Signed-in callers this replica remembers, so that a request's session or API key check
//! costs no statement.
//!
//! An entry is kept only while this replica hears every change that could make it wrong:
//! the `m…_credential_changes` migration's triggers announce each changed session, user,
//! API key, partner and tier, on PostgreSQL by NOTIFY (delivered on commit to every
//! replica), on SQLite through `credential_changes`, read ten times a second. A change
//! heard drops the entries that depend on it; while the feed is down (a lost LISTEN
//! connection), nothing is served from memory and every request reads the database, as
//! before. So a logout, a deactivation or a revoked key is refused on every replica within
//! the feed's delay (PostgreSQL: milliseconds; SQLite: 100 ms), never after a timeout.
//!
//! A request that read the database while a change was being heard must not keep what it
//! read: each read takes the feed's generation first and keeps its entry only if no change
//! was heard since.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::credential_change;
use lru::LruCache;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{CallerRows, KeyGrant, Role};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// The NOTIFY channel of the triggers (see the migration).
const CHANNEL: &str = "partnergraph_credentials";
/// Callers kept; the least recently seen is dropped first. About 2 KB each.
const CAPACITY: usize = 10_000;
/// How long an entry serves without being read again: a bound on what a change missed by
/// every mechanism above could cost, not the way changes are meant to arrive.
const MAX_AGE: Duration = Duration::from_secs(300);
const SQLITE_POLL: Duration = Duration::from_millis(100);
const RETRY: Duration = Duration::from_secs(1);

/// A signed-in session as authentication found it: its caller's rows.
pub type KnownSession = Arc<CallerRows>;

/// An API key as authentication found it (its creator active, its partner in business).
pub struct KnownKey {
    pub user_id: i64,
    pub role: Role,
    pub partner_id: Option<i64>,
    pub grant: Arc<KeyGrant>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What the cache holds: a caller as it was read, and when.
pub struct Remembered<T> {
    pub known: T,
    read_at: Instant,
}

/// A change the feed announced: `kind` as the triggers write it, the changed row's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    kind: char,
    id: i64,
}

pub struct CallerCache {
    sessions: Mutex<LruCache<i64, Arc<Remembered<KnownSession>>>>,
    keys: Mutex<LruCache<String, Arc<Remembered<KnownKey>>>>,
    generation: AtomicU64,
    hearing: AtomicBool,
    started: OnceLock<()>,
}

impl Default for CallerCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(CAPACITY).expect("capacity is not zero");
        CallerCache {
            sessions: Mutex::new(LruCache::new(capacity)),
            keys: Mutex::new(LruCache::new(capacity)),
            generation: AtomicU64::new(0),
            hearing: AtomicBool::new(false),
            started: OnceLock::new(),
        }
    }
}

/// This process's caches, for `forget_here`.
static THIS_PROCESS: Mutex<Vec<Weak<CallerCache>>> = Mutex::new(Vec::new());

/// What a write that ends access forgets in this process's caches at once, beside the feed:
/// the feed reaches every replica within its delay, but the caller that just logged out, or
/// the manager who just revoked a key, may send its next request to this replica sooner.
pub fn forget_session(id: i64) {
    forget_here(Change { kind: 's', id });
}

pub fn forget_user(id: i64) {
    forget_here(Change { kind: 'u', id });
}

pub fn forget_key(id: i64) {
    forget_here(Change { kind: 'k', id });
}

pub fn forget_partner(id: i64) {
    forget_here(Change { kind: 'p', id });
}

fn forget_here(change: Change) {
    let caches: Vec<Arc<CallerCache>> = lock(&THIS_PROCESS)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for cache in caches {
        cache.forget(change);
    }
}

impl CallerCache {
    /// Starts hearing `db`'s changes (once); until the feed is up nothing is kept.
    pub fn start(self: &Arc<Self>, db: &Db) {
        self.started.get_or_init(|| {
            let mut caches = lock(&THIS_PROCESS);
            caches.retain(|cache| cache.strong_count() > 0);
            caches.push(Arc::downgrade(self));
            let cache = Arc::downgrade(self);
            let db = db.clone();
            tokio::spawn(async move { hear(cache, db).await });
        });
    }

    /// Where a read of the database begins: its tag, or `None` when nothing may be kept.
    pub fn tag(&self) -> Option<u64> {
        self.hearing
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    pub fn session(&self, session_id: i64) -> Option<Arc<Remembered<KnownSession>>> {
        self.tag()?;
        let found = lock(&self.sessions).get(&session_id).cloned()?;
        fresh(found.read_at).then_some(found)
    }

    pub fn key(&self, secret_hash: &str) -> Option<Arc<Remembered<KnownKey>>> {
        self.tag()?;
        let found = lock(&self.keys).get(secret_hash).cloned()?;
        fresh(found.read_at).then_some(found)
    }

    pub fn keep_session(&self, tag: Option<u64>, session_id: i64, rows: KnownSession) {
        self.keep(tag, &self.sessions, session_id, rows);
    }

    pub fn keep_key(&self, tag: Option<u64>, secret_hash: String, key: KnownKey) {
        self.keep(tag, &self.keys, secret_hash, key);
    }

    /// Keeps `value` unless a change was heard since `tag` was taken (checked under the
    /// map's lock, which `forget` also takes: a change is either seen here or drops this).
    fn keep<K: std::hash::Hash + Eq, V>(
        &self,
        tag: Option<u64>,
        map: &Mutex<LruCache<K, Arc<Remembered<V>>>>,
        key: K,
        known: V,
    ) {
        let remembered = Arc::new(Remembered {
            known,
            read_at: Instant::now(),
        });
        let mut map = lock(map);
        if tag.is_some() && self.tag() == tag {
            map.put(key, remembered);
        }
    }

    fn forget(&self, change: Change) {
        let mut sessions = lock(&self.sessions);
        let mut keys = lock(&self.keys);
        self.generation.fetch_add(1, Ordering::AcqRel);
        let session_stale = |s: &Remembered<KnownSession>| depends(&s.known, change);
        let stale: Vec<i64> = match change.kind {
            's' => vec![change.id],
            _ => sessions
                .iter()
                .filter(|(_, s)| session_stale(s))
                .map(|(id, _)| *id)
                .collect(),
        };
        for id in stale {
            sessions.pop(&id);
        }
        if change.kind == 's' {
            return;
        }
        let stale: Vec<String> = keys
            .iter()
            .filter(|(_, k)| key_depends(&k.known, change))
            .map(|(hash, _)| hash.clone())
            .collect();
        for hash in stale {
            keys.pop(&hash);
        }
    }

    /// Forgets everything and stops serving from memory (the feed is down) or starts again.
    fn set_hearing(&self, hearing: bool) {
        let mut sessions = lock(&self.sessions);
        let mut keys = lock(&self.keys);
        self.generation.fetch_add(1, Ordering::AcqRel);
        sessions.clear();
        keys.clear();
        self.hearing.store(hearing, Ordering::Release);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn fresh(read_at: Instant) -> bool {
    read_at.elapsed() < MAX_AGE
}

/// Whether a change to `change`'s row may alter what `session` holds.
fn depends(rows: &CallerRows, change: Change) -> bool {
    match change.kind {
        'u' => rows.user.id == change.id,
        'p' => rows.user.partner_id == Some(change.id),
        't' => rows.tier.as_ref().is_some_and(|t| t.id == change.id),
        _ => false,
    }
}

fn key_depends(key: &KnownKey, change: Change) -> bool {
    match change.kind {
        'k' => key.grant.id == change.id,
        'u' => key.user_id == change.id,
        'p' => key.partner_id == Some(change.id),
        _ => false,
    }
}

/// A trigger's payload, `kind:id`.
fn parse_change(payload: &str) -> Option<Change> {
    let (kind, id) = payload.split_once(':')?;
    change_of(kind, id.parse().ok()?)
}

/// A change of `kind` (one letter, as the triggers write it) to row `id`.
fn change_of(kind: &str, id: i64) -> Option<Change> {
    let mut chars = kind.chars();
    let kind = chars.next().filter(|_| chars.next().is_none())?;
    Some(Change { kind, id })
}

/// Hears changes for as long as the cache lives.
async fn hear(cache: Weak<CallerCache>, db: Db) {
    loop {
        let ended = match db.get_database_backend() {
            DbBackend::Postgres => listen(&cache, &db).await,
            _ => poll(&cache, &db).await,
        };
        let Some(live) = cache.upgrade() else {
            return;
        };
        live.set_hearing(false);
        drop(live);
        if let Err(err) = ended {
            tracing::warn!(error = %err, "credential changes unheard; reading sessions from the database until they are heard again");
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// PostgreSQL: LISTENs; serves from memory only while the listening connection is up
/// (a lost connection loses notifications, so the cache is emptied and rebuilt).
async fn listen(cache: &Weak<CallerCache>, db: &Db) -> AppResult<()> {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.pool().get_postgres_connection_pool();
    let mut listener = PgListener::connect_with(pool)
        .await
        .map_err(AppError::internal)?;
    listener.listen(CHANNEL).await.map_err(AppError::internal)?;
    let schema = crate::db::current_schema(db).await?;
    match cache.upgrade() {
        Some(live) => live.set_hearing(true),
        None => return Ok(()),
    }
    loop {
        // Wakes now and then to end with the cache.
        let heard = tokio::time::timeout(RETRY, listener.try_recv()).await;
        let Some(live) = cache.upgrade() else {
            return Ok(());
        };
        let note = match heard {
            Err(_) => continue,
            Ok(Err(err)) => return Err(AppError::internal(err)),
            Ok(Ok(None)) => return Err(AppError::internal("the LISTEN connection was lost")),
            Ok(Ok(Some(note))) => note,
        };
        let change = crate::db::in_schema(note.payload(), &schema).and_then(parse_change);
        if let Some(change) = change {
            live.forget(change);
        }
    }
}

/// SQLite: reads the rows the triggers appended. The table keeps the newest 1,000; a gap
/// before the first row read means some were dropped unread, and everything is forgotten.
async fn poll(cache: &Weak<CallerCache>, db: &Db) -> AppResult<()> {
    let reader = db.background();
    let mut last = credential_change::Entity::find()
        .order_by_desc(credential_change::Column::Id)
        .one(&reader)
        .await?
        .map_or(0, |c| c.id);
    match cache.upgrade() {
        Some(live) => live.set_hearing(true),
        None => return Ok(()),
    }
    loop {
        tokio::time::sleep(SQLITE_POLL).await;
        let fresh = credential_change::Entity::find()
            .filter(credential_change::Column::Id.gt(last))
            .order_by_asc(credential_change::Column::Id)
            .limit(1000)
            .all(&reader)
            .await?;
        let Some(live) = cache.upgrade() else {
            return Ok(());
        };
        if fresh.first().is_some_and(|first| first.id != last + 1) {
            live.set_hearing(true);
        }
        for change in &fresh {
            last = change.id;
            if let Some(change) = change_of(&change.kind, change.ref_id) {
                live.forget(change);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_one_kind_and_an_id() {
        assert_eq!(parse_change("s:42"), Some(Change { kind: 's', id: 42 }));
        assert_eq!(parse_change("p:-1"), Some(Change { kind: 'p', id: -1 }));
        assert_eq!(parse_change("sx:1"), None);
        assert_eq!(parse_change("s:"), None);
        assert_eq!(parse_change("s"), None);
    }

    fn rows(user_id: i64, partner_id: Option<i64>) -> Arc<CallerRows> {
        let user = entity::user::Model {
            id: user_id,
            email: format!("u{user_id}@example.com"),
            name: "U".into(),
            role: Role::Partner,
            partner_id,
            password_hash: String::new(),
            is_active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            is_org_admin: false,
            deactivated_at: None,
        };
        Arc::new(CallerRows {
            user,
            partner: None,
            tier: None,
            verticals: vec![],
            has_tier_two: false,
        })
    }

    #[test]
    fn a_change_heard_drops_what_depends_on_it_and_what_was_read_before_it() {
        let cache = CallerCache::default();
        assert_eq!(cache.tag(), None, "nothing is kept before the feed is up");
        cache.keep_session(cache.tag(), 1, rows(10, Some(5)));
        assert!(cache.session(1).is_none());

        cache.set_hearing(true);
        cache.keep_session(cache.tag(), 1, rows(10, Some(5)));
        cache.keep_session(cache.tag(), 2, rows(11, Some(6)));
        assert!(cache.session(1).is_some() && cache.session(2).is_some());

        cache.forget(Change { kind: 'p', id: 5 });
        assert!(cache.session(1).is_none(), "its partner changed");
        assert!(cache.session(2).is_some());

        let before = cache.tag();
        cache.forget(Change { kind: 's', id: 99 });
        cache.keep_session(before, 3, rows(12, None));
        assert!(cache.session(3).is_none(), "read before a change: not kept");

        cache.set_hearing(false);
        assert!(
            cache.session(2).is_none(),
            "the feed is down: nothing served"
        );
    }
}
