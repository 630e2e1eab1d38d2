//! Import jobs: accepted whole (rows stored with the job, so a restart loses nothing), then
//! processed row by row by whichever replica claims the job. A claim is a lease
//! (`locked_until`), renewed as rows are done; a replica that dies mid-job lets another
//! take over when it runs out, and rows already done are not done again (each row's
//! outcome is written as it is decided, and a re-run row finds its registration by
//! `externalId`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::enums::Role;
use entity::{api_key, deal_registration, import_job, import_row};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::auth::{Actor, KeyGrant};
use crate::db::{begin_write, Db};
use crate::deals::candidates::{self, Probe};
use crate::deals::service::{self as deals, RegistrationInput};
use crate::error::{AppError, AppResult};
use crate::integrations::scopes::Scopes;
use crate::money::MoneyInput;
use crate::relay::{UserError, UserErrorCode};

pub const MAX_ROWS: usize = 1_000;
pub const QUEUED: &str = "QUEUED";
pub const RUNNING: &str = "RUNNING";
pub const COMPLETED: &str = "COMPLETED";
pub const CREATED: &str = "CREATED";
pub const UPDATED: &str = "UPDATED";
pub const UNCHANGED: &str = "UNCHANGED";
pub const FAILED: &str = "FAILED";

/// How long a claim holds a job; renewed every `RENEW_EVERY` rows.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
const RENEW_EVERY: usize = 25;
const POLL: Duration = Duration::from_secs(1);

/// One row as stored with its job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRow {
    pub input: RegistrationInput,
    pub money: Option<MoneyInput>,
    pub submit: bool,
}

/// A row's field error, kept with its outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowError {
    pub field: Option<String>,
    pub message: String,
    pub code: UserErrorCode,
}

/// A conflict found for a row's registration, as its partner may see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowConflict {
    pub kind: String,
    pub rule: String,
    pub matched_on: Vec<String>,
}

/// Accepts an import of `rows` for `actor`'s organisation; the same `idempotency_key`
/// again returns the first job.
pub async fn accept(
    db: &Db,
    actor: &Actor,
    rows: Vec<StoredRow>,
    idempotency_key: Option<String>,
) -> AppResult<Result<import_job::Model, Vec<UserError>>> {
    let Some(partner_id) = actor.partner_id.filter(|_| actor.role == Role::Partner) else {
        return Err(AppError::Forbidden(
            "imports register deals for a partner organisation; sign in as its user".into(),
        ));
    };
    let key = idempotency_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if key.as_ref().is_some_and(|k| k.chars().count() > 200) {
        return Ok(Err(UserError::one(
            "idempotencyKey",
            UserErrorCode::Invalid,
            "must be at most 200 characters",
        )));
    }
    if let Some(found) = existing(db, partner_id, key.as_deref()).await? {
        return Ok(Ok(found));
    }
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Ok(Err(UserError::one(
            "rows",
            UserErrorCode::Invalid,
            format!("an import holds 1 to {MAX_ROWS} rows"),
        )));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let job = import_job::ActiveModel {
        partner_id: Set(partner_id),
        created_by_id: Set(actor.user_id),
        api_key_id: Set(actor.api_key_id()),
        status: Set(QUEUED.into()),
        total: Set(rows.len() as i32),
        idempotency_key: Set(key.clone()),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        locked_until: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let job = match job {
        Ok(job) => job,
        Err(err)
            if matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            txn.rollback().await?;
            // A concurrent import with the same key won: answer with its job.
            return existing(db, partner_id, key.as_deref())
                .await?
                .map(Ok)
                .ok_or_else(|| AppError::internal("import key taken but no job"));
        }
        Err(err) => return Err(err.into()),
    };
    let stored: Vec<import_row::ActiveModel> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| import_row::ActiveModel {
            job_id: Set(job.id),
            row_index: Set(index as i32),
            input: Set(serde_json::to_string(row).unwrap_or_default()),
            outcome: Set(None),
            registration_id: Set(None),
            errors: Set(None),
            conflicts: Set(None),
            ..Default::default()
        })
        .collect();
    for chunk in stored.chunks(200) {
        import_row::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Ok(job))
}

async fn existing(
    db: &Db,
    partner_id: i64,
    key: Option<&str>,
) -> AppResult<Option<import_job::Model>> {
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(import_job::Entity::find()
        .filter(import_job::Column::PartnerId.eq(partner_id))
        .filter(import_job::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Takes the oldest job that is queued, or running under a lease that ran out.
async fn claim(db: &Db) -> AppResult<Option<import_job::Model>> {
    let now = Utc::now();
    let claimable = || {
        import_job::Entity::find().filter(
            Condition::any()
                .add(import_job::Column::Status.eq(QUEUED))
                .add(
                    Condition::all()
                        .add(import_job::Column::Status.eq(RUNNING))
                        .add(import_job::Column::LockedUntil.lt(now)),
                ),
        )
    };
    if claimable().limit(1).one(&db.background()).await?.is_none() {
        return Ok(None);
    }
    let txn = begin_write(db).await?;
    let Some(job) = claimable()
        .order_by_asc(import_job::Column::Id)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(&txn)
        .await?
    else {
        txn.rollback().await?;
        return Ok(None);
    };
    let mut claimed: import_job::ActiveModel = job.clone().into();
    claimed.status = Set(RUNNING.into());
    claimed.locked_until = Set(Some(now + LEASE));
    if job.started_at.is_none() {
        claimed.started_at = Set(Some(now));
    }
    let claimed = claimed.update(&txn).await?;
    txn.commit().await?;
    Ok(Some(claimed))
}

/// Processes claimed jobs until none is left; how many rows it processed.
pub async fn run_once(db: &Db) -> AppResult<usize> {
    let mut processed = 0;
    while let Some(job) = claim(db).await? {
        processed += work(db, &job).await?;
    }
    Ok(processed)
}

/// The caller a job's rows are registered as: its creator, for its organisation, through
/// its API key if it came with one (history names the key).
async fn importer(db: &Db, job: &import_job::Model) -> AppResult<Actor> {
    let actor = Actor::new(job.created_by_id, Role::Partner, Some(job.partner_id), 0);
    let Some(key_id) = job.api_key_id else {
        return Ok(actor);
    };
    let key = api_key::Entity::find_by_id(key_id).one(db).await?;
    Ok(match key {
        Some(key) => actor.with_api_key(Arc::new(KeyGrant {
            id: key.id,
            name: key.name,
            scopes: Scopes::parse(&key.scopes),
        })),
        None => actor,
    })
}

async fn work(db: &Db, job: &import_job::Model) -> AppResult<usize> {
    let actor = importer(db, job).await?;
    let rows = import_row::Entity::find()
        .filter(import_row::Column::JobId.eq(job.id))
        .filter(import_row::Column::Outcome.is_null())
        .order_by_asc(import_row::Column::RowIndex)
        .all(db)
        .await?;
    for (done, row) in rows.iter().enumerate() {
        if done > 0 && done % RENEW_EVERY == 0 {
            renew(db, job.id).await?;
        }
        let outcome = process(db, &actor, row).await?;
        write_outcome(db, row, outcome).await?;
    }
    import_job::Entity::update_many()
        .col_expr(import_job::Column::Status, COMPLETED.into())
        .col_expr(import_job::Column::FinishedAt, Some(Utc::now()).into())
        .col_expr(
            import_job::Column::LockedUntil,
            Option::<chrono::DateTime<Utc>>::None.into(),
        )
        .filter(import_job::Column::Id.eq(job.id))
        .exec(db)
        .await?;
    Ok(rows.len())
}

async fn renew(db: &Db, job_id: i64) -> AppResult<()> {
    import_job::Entity::update_many()
        .col_expr(
            import_job::Column::LockedUntil,
            Some(Utc::now() + LEASE).into(),
        )
        .filter(import_job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}

/// What became of one row.
pub struct Outcome {
    pub outcome: &'static str,
    pub registration_id: Option<i64>,
    pub errors: Vec<RowError>,
    pub conflicts: Vec<RowConflict>,
}

impl Outcome {
    fn failed(errors: Vec<UserError>) -> Self {
        Outcome {
            outcome: FAILED,
            registration_id: None,
            errors: errors
                .into_iter()
                .map(|e| RowError {
                    field: e.field,
                    message: e.message,
                    code: e.code,
                })
                .collect(),
            conflicts: vec![],
        }
    }
}

/// Upserts one row by its `externalId`.
async fn process(db: &Db, actor: &Actor, row: &import_row::Model) -> AppResult<Outcome> {
    let Ok(stored) = serde_json::from_str::<StoredRow>(&row.input) else {
        return Ok(Outcome::failed(UserError::one(
            "rows",
            UserErrorCode::Invalid,
            "the row could not be read",
        )));
    };
    let Some(external_id) = stored.input.external_id.clone() else {
        return Ok(Outcome::failed(UserError::one(
            "externalId",
            UserErrorCode::Required,
            "an imported row needs the externalId it is matched by",
        )));
    };
    let partner_id = actor.partner_id.unwrap_or_default();
    let found = deal_registration::Entity::find()
        .filter(deal_registration::Column::PartnerId.eq(partner_id))
        .filter(deal_registration::Column::ExternalId.eq(external_id.as_str()))
        .order_by_asc(deal_registration::Column::Id)
        .one(db)
        .await?;
    let result = match found {
        None => deals::register(
            db,
            actor,
            stored.input.clone(),
            stored.money.clone(),
            None,
            stored.submit,
        )
        .await?
        .map(|created| (CREATED, created)),
        Some(registration) => {
            match deals::changes_from(db, &registration, &stored.input, stored.money.as_ref())
                .await?
            {
                Err(errors) => Err(errors),
                Ok(changes) if changes.fields().is_empty() => Ok((UNCHANGED, registration)),
                Ok(changes) => {
                    let version = registration.version;
                    deals::update(db, registration, version, changes)
                        .await?
                        .map(|updated| (UPDATED, updated))
                }
            }
        }
    };
    let (outcome, registration) = match result {
        Ok(done) => done,
        Err(errors) => return Ok(Outcome::failed(errors)),
    };
    let conflicts = conflicts_of(db, &registration).await?;
    Ok(Outcome {
        outcome,
        registration_id: Some(registration.id),
        errors: vec![],
        conflicts,
    })
}

/// The kinds of conflict a registration runs into, once each: what a partner may learn
/// (never how many, with whom, or how sure).
async fn conflicts_of(
    db: &Db,
    registration: &deal_registration::Model,
) -> AppResult<Vec<RowConflict>> {
    let probe = Probe::of(db, registration).await?;
    let mut found: Vec<RowConflict> = Vec::new();
    for conflict in candidates::conflicts(db, &probe).await? {
        let kind = format!("{:?}", conflict.kind);
        if conflict.blocks() && !found.iter().any(|seen| seen.kind == kind) {
            found.push(RowConflict {
                kind,
                rule: conflict.rule.to_owned(),
                matched_on: conflict
                    .verdict
                    .matched_on()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            });
        }
    }
    Ok(found)
}

async fn write_outcome(db: &Db, row: &import_row::Model, outcome: Outcome) -> AppResult<()> {
    import_row::Entity::update_many()
        .col_expr(import_row::Column::Outcome, Some(outcome.outcome).into())
        .col_expr(
            import_row::Column::RegistrationId,
            outcome.registration_id.into(),
        )
        .col_expr(
            import_row::Column::Errors,
            json_text(&outcome.errors).into(),
        )
        .col_expr(
            import_row::Column::Conflicts,
            json_text(&outcome.conflicts).into(),
        )
        .filter(import_row::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(())
}

/// A list stored as JSON text; none when it is empty.
fn json_text<T: Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::to_string(items).unwrap_or_default())
}

/// Counts of a job's rows by outcome.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
}

pub async fn counts(db: &Db, job_id: i64) -> AppResult<Counts> {
    let rows: Vec<(Option<String>, i64)> = import_row::Entity::find()
        .select_only()
        .column(import_row::Column::Outcome)
        .column_as(import_row::Column::Id.count(), "n")
        .filter(import_row::Column::JobId.eq(job_id))
        .group_by(import_row::Column::Outcome)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = Counts::default();
    for (outcome, n) in rows {
        match outcome.as_deref() {
            Some(CREATED) => counts.created = n,
            Some(UPDATED) => counts.updated = n,
            Some(UNCHANGED) => counts.unchanged = n,
            Some(FAILED) => counts.failed = n,
            _ => continue,
        }
        counts.processed += n;
    }
    Ok(counts)
}

/// Runs jobs for as long as the process lives: at once when this replica accepted one
/// (`wake`), and every second for jobs other replicas accepted or left behind.
pub fn spawn(db: Db, wake: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        loop {
            if let Err(err) = run_once(&db).await {
                tracing::warn!(error = %err, "import round failed");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    });
}
