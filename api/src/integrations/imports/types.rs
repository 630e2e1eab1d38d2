//! The GraphQL side of imports: `importDealRegistrations`, `importJob` and the `ImportJob`
//! node with each row's outcome.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{import_job, import_row};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::OnceCell;

use super::service::{self, Counts, RowConflict, RowError, StoredRow};
use crate::auth::actor;
use crate::db::Db;
use crate::deals::service::RegistrationInput;
use crate::deals::{DealRegistration, PRODUCT_KIND};
use crate::error::AppResult;
use crate::money::MoneyInput;
use crate::partners::policy::scope;
use crate::relay::{global_id, local_id, paginate_ordered, PageArgs, RelayConnection, UserError};

pub const NODE_KIND: &str = "ImportJob";

/// Wakes this replica's import worker when it accepts a job.
#[derive(Default)]
pub struct ImportWake(pub Arc<tokio::sync::Notify>);

/// One registration to create or update, matched by `externalId` within the organisation.
#[derive(InputObject)]
pub struct ImportRegistrationRow {
    /// The partner's own CRM id: the row updates the registration that has it, or creates
    /// one.
    pub external_id: String,
    pub customer_name: String,
    pub customer_domain: Option<String>,
    pub customer_country: Option<String>,
    pub product_ids: Vec<ID>,
    pub estimated_value: Option<MoneyInput>,
    pub expected_close_date: Option<NaiveDate>,
    pub deal_type: Option<crate::deals::DealType>,
    pub description: Option<String>,
    /// Submit new registrations at once instead of saving drafts.
    #[graphql(default)]
    pub submit: bool,
}

impl ImportRegistrationRow {
    fn stored(self) -> StoredRow {
        StoredRow {
            input: RegistrationInput {
                customer_name: self.customer_name,
                customer_domain: self.customer_domain,
                customer_country: self.customer_country,
                product_ids: self
                    .product_ids
                    .iter()
                    .map(|id| local_id(id, PRODUCT_KIND).unwrap_or(-1))
                    .collect(),
                estimated_value: self
                    .estimated_value
                    .as_ref()
                    .map(|m| (m.amount.to_string(), m.currency.clone())),
                expected_close_date: self.expected_close_date,
                deal_type: self
                    .deal_type
                    .map(|t| sea_orm::ActiveEnum::to_value(&entity::enums::DealType::from(t))),
                description: self.description,
                external_id: Some(self.external_id.trim().to_owned()).filter(|id| !id.is_empty()),
            },
            money: self.estimated_value,
            submit: self.submit,
        }
    }
}

#[derive(InputObject)]
pub struct ImportDealRegistrationsInput {
    /// 1 to 1,000 rows.
    pub rows: Vec<ImportRegistrationRow>,
    /// The same key again returns the first import's job and imports nothing.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct ImportDealRegistrationsPayload {
    pub import_job: Option<ImportJob>,
    pub user_errors: Vec<UserError>,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ImportJobStatus {
    /// Accepted; no worker has started it yet.
    Queued,
    Running,
    Completed,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ImportRowOutcome {
    Created,
    Updated,
    /// The registration with this `externalId` already matches the row.
    Unchanged,
    Failed,
}

fn outcome_of(text: &str) -> Option<ImportRowOutcome> {
    Some(match text {
        service::CREATED => ImportRowOutcome::Created,
        service::UPDATED => ImportRowOutcome::Updated,
        service::UNCHANGED => ImportRowOutcome::Unchanged,
        service::FAILED => ImportRowOutcome::Failed,
        _ => return None,
    })
}

/// A bulk import and where it stands.
pub struct ImportJob {
    job: import_job::Model,
    counts: OnceCell<Counts>,
}

impl ImportJob {
    pub fn new(job: import_job::Model) -> Self {
        ImportJob {
            job,
            counts: OnceCell::new(),
        }
    }

    async fn counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Counts> {
        let db = ctx.data::<Db>()?;
        self.counts
            .get_or_try_init(|| service::counts(db, self.job.id))
            .await
            .copied()
            .extend()
    }
}

#[Object]
impl ImportJob {
    pub async fn id(&self) -> ID {
        global_id(NODE_KIND, self.job.id)
    }
    async fn status(&self) -> ImportJobStatus {
        match self.job.status.as_str() {
            service::QUEUED => ImportJobStatus::Queued,
            service::RUNNING => ImportJobStatus::Running,
            _ => ImportJobStatus::Completed,
        }
    }
    async fn total(&self) -> i32 {
        self.job.total
    }
    async fn processed(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.processed as i32)
    }
    async fn created(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.created as i32)
    }
    async fn updated(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.updated as i32)
    }
    async fn unchanged(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.unchanged as i32)
    }
    async fn failed(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.failed as i32)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.job.created_at
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.job.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.job.finished_at
    }
    /// Each row's outcome, in input order; `outcome: FAILED` lists only failed rows.
    async fn rows(
        &self,
        ctx: &Context<'_>,
        outcome: Option<ImportRowOutcome>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<ImportRowResult>> {
        let db = ctx.data::<Db>()?;
        let mut select = import_row::Entity::find()
            .filter(import_row::Column::JobId.eq(self.job.id))
            .order_by_asc(import_row::Column::RowIndex)
            .order_by_asc(import_row::Column::Id);
        if let Some(wanted) = outcome {
            let text = [
                service::CREATED,
                service::UPDATED,
                service::UNCHANGED,
                service::FAILED,
            ]
            .into_iter()
            .find(|t| outcome_of(t) == Some(wanted))
            .unwrap_or_default();
            select = select.filter(import_row::Column::Outcome.eq(text));
        }
        paginate_ordered(
            db,
            select,
            &PageArgs::new(first, after, last, before),
            ImportRowResult,
        )
        .await
        .extend()
    }
}

/// One row of an import, and what became of it.
pub struct ImportRowResult(import_row::Model);

#[derive(SimpleObject)]
pub struct ImportRowConflict {
    /// `PartnerRegistration`, `DirectAccount` or `ExistingCustomer`.
    pub kind: String,
    pub rule: String,
    pub matched_on: Vec<String>,
}

#[Object]
impl ImportRowResult {
    /// The row's position in the input, from 0.
    async fn index(&self) -> i32 {
        self.0.row_index
    }
    async fn external_id(&self) -> Option<String> {
        serde_json::from_str::<StoredRow>(&self.0.input)
            .ok()
            .and_then(|row| row.input.external_id)
    }
    /// Null until the row is processed.
    async fn outcome(&self) -> Option<ImportRowOutcome> {
        self.0.outcome.as_deref().and_then(outcome_of)
    }
    async fn registration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DealRegistration>> {
        let Some(id) = self.0.registration_id else {
            return Ok(None);
        };
        Ok(
            crate::loaders::load_one::<entity::deal_registration::Entity>(ctx, id)
                .await?
                .map(DealRegistration),
        )
    }
    /// Why a failed row failed, by field (`customerName`, `productIds`, …).
    async fn errors(&self) -> Vec<UserError> {
        let stored: Vec<RowError> = self
            .0
            .errors
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        stored
            .into_iter()
            .map(|e| UserError {
                field: e.field,
                message: e.message,
                code: e.code,
            })
            .collect()
    }
    /// Conflicts the row's registration runs into (never naming another partner).
    async fn conflicts(&self) -> Vec<ImportRowConflict> {
        let stored: Vec<RowConflict> = self
            .0
            .conflicts
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        stored
            .into_iter()
            .map(|c| ImportRowConflict {
                kind: c.kind,
                rule: c.rule,
                matched_on: c.matched_on,
            })
            .collect()
    }
}

/// The job `id` if `actor` may see it: its organisation's (with a distributor's tier-two
/// partners'), every job for vendor staff.
pub async fn find(
    db: &Db,
    actor: &crate::auth::Actor,
    id: i64,
) -> AppResult<Option<import_job::Model>> {
    let Some(job) = import_job::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(scope(db, actor)
        .await?
        .allows(job.partner_id)
        .then_some(job))
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// An import job by id; null when it does not exist or is not the caller's to see.
    async fn import_job(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ImportJob>> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let Some(id) = local_id(&id, NODE_KIND) else {
            return Ok(None);
        };
        Ok(find(db, &actor, id).await.extend()?.map(ImportJob::new))
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Imports up to 1,000 registrations from a partner's own system, upserting by
    /// `externalId`. Answers at once with the job; rows are processed in the background
    /// (poll `importJob` or `node`).
    async fn import_deal_registrations(
        &self,
        ctx: &Context<'_>,
        input: ImportDealRegistrationsInput,
    ) -> async_graphql::Result<ImportDealRegistrationsPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let rows = input
            .rows
            .into_iter()
            .map(ImportRegistrationRow::stored)
            .collect();
        let accepted = service::accept(db, &actor, rows, input.idempotency_key)
            .await
            .extend()?;
        Ok(match accepted {
            Ok(job) => {
                if let Some(wake) = ctx.data_opt::<ImportWake>() {
                    wake.0.notify_one();
                }
                ImportDealRegistrationsPayload {
                    import_job: Some(ImportJob::new(job)),
                    user_errors: vec![],
                }
            }
            Err(user_errors) => ImportDealRegistrationsPayload {
                import_job: None,
                user_errors,
            },
        })
    }
}
