//! Partners' own systems: API keys, the event outbox, webhook endpoints and their
//! deliveries, shared rate-limit windows, bulk-import jobs, and which key made a change.

use sea_orm_migration::prelude::*;

use crate::helpers::{fk, id, index, reference, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_api_keys(manager).await?;
        name_keys_in_history(manager).await?;
        create_events(manager).await?;
        create_webhooks(manager).await?;
        create_rate_windows(manager).await?;
        create_imports(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Alias::new("import_rows"),
            Alias::new("import_jobs"),
            Alias::new("rate_windows"),
            Alias::new("webhook_attempts"),
            Alias::new("webhook_deliveries"),
            Alias::new("webhook_endpoints"),
            Alias::new("events"),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for table in [Alias::new("deal_history"), Alias::new("deal_comments")] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new("api_key_id"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

async fn create_api_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(id(ApiKeys::Id))
                .col(ColumnDef::new(ApiKeys::Name).string_len(100).not_null())
                .col(ColumnDef::new(ApiKeys::Prefix).string_len(16).not_null())
                .col(
                    ColumnDef::new(ApiKeys::SecretHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(ApiKeys::Scopes).text().not_null())
                .col(ColumnDef::new(ApiKeys::PartnerId).big_integer().null())
                .col(reference(ApiKeys::CreatedById))
                .col(timestamp(ApiKeys::CreatedAt))
                .col(
                    ColumnDef::new(ApiKeys::ExpiresAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(ApiKeys::LastUsedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(ApiKeys::RevokedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(&mut fk(
                    ApiKeys::Table,
                    ApiKeys::PartnerId,
                    Alias::new("partners"),
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    ApiKeys::Table,
                    ApiKeys::CreatedById,
                    Alias::new("users"),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ux_api_keys_secret_hash",
            ApiKeys::Table,
            &["secret_hash"],
            true,
        ))
        .await?;
    manager
        .create_index(index(
            "ix_api_keys_partner",
            ApiKeys::Table,
            &["partner_id", "id"],
            false,
        ))
        .await
}

/// History entries and comments name the API key a change came through; imports find a
/// partner's registration by its `externalId`.
async fn name_keys_in_history(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_index(index(
            "ix_deal_registrations_external",
            Alias::new("deal_registrations"),
            &["partner_id", "external_id"],
            false,
        ))
        .await?;
    for table in [Alias::new("deal_history"), Alias::new("deal_comments")] {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(
                        ColumnDef::new(Alias::new("api_key_id"))
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn create_events(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Events::Table)
                .col(id(Events::Id))
                .col(ColumnDef::new(Events::EventType).string_len(64).not_null())
                .col(ColumnDef::new(Events::SubjectId).big_integer().not_null())
                .col(ColumnDef::new(Events::PartnerId).big_integer().null())
                .col(ColumnDef::new(Events::Data).text().not_null())
                .col(timestamp(Events::CreatedAt))
                .col(
                    ColumnDef::new(Events::DispatchedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ix_events_undispatched",
            Events::Table,
            &["dispatched_at", "id"],
            false,
        ))
        .await?;
    manager
        .create_index(index(
            "ix_events_created",
            Events::Table,
            &["created_at", "id"],
            false,
        ))
        .await
}

async fn create_webhooks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(id(WebhookEndpoints::Id))
                .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                .col(ColumnDef::new(WebhookEndpoints::Events).text().not_null())
                .col(ColumnDef::new(WebhookEndpoints::Description).text().null())
                .col(
                    ColumnDef::new(WebhookEndpoints::PartnerId)
                        .big_integer()
                        .null(),
                )
                .col(reference(WebhookEndpoints::CreatedById))
                .col(
                    ColumnDef::new(WebhookEndpoints::Secret)
                        .string_len(80)
                        .not_null(),
                )
                .col(timestamp(WebhookEndpoints::CreatedAt))
                .col(
                    ColumnDef::new(WebhookEndpoints::DisabledAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(WebhookEndpoints::DisabledReason)
                        .text()
                        .null(),
                )
                .foreign_key(&mut fk(
                    WebhookEndpoints::Table,
                    WebhookEndpoints::PartnerId,
                    Alias::new("partners"),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(id(WebhookDeliveries::Id))
                .col(reference(WebhookDeliveries::EndpointId))
                .col(reference(WebhookDeliveries::EventId))
                .col(
                    ColumnDef::new(WebhookDeliveries::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookDeliveries::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(timestamp(WebhookDeliveries::NextAttemptAt))
                .col(
                    ColumnDef::new(WebhookDeliveries::LockedUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(timestamp(WebhookDeliveries::CreatedAt))
                .col(
                    ColumnDef::new(WebhookDeliveries::FinishedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(&mut fk(
                    WebhookDeliveries::Table,
                    WebhookDeliveries::EndpointId,
                    WebhookEndpoints::Table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    WebhookDeliveries::Table,
                    WebhookDeliveries::EventId,
                    Events::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ix_webhook_deliveries_due",
            WebhookDeliveries::Table,
            &["status", "next_attempt_at"],
            false,
        ))
        .await?;
    manager
        .create_index(index(
            "ix_webhook_deliveries_endpoint",
            WebhookDeliveries::Table,
            &["endpoint_id", "id"],
            false,
        ))
        .await?;
    manager
        .create_table(
            Table::create()
                .table(WebhookAttempts::Table)
                .col(id(WebhookAttempts::Id))
                .col(reference(WebhookAttempts::DeliveryId))
                .col(timestamp(WebhookAttempts::StartedAt))
                .col(
                    ColumnDef::new(WebhookAttempts::DurationMs)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(WebhookAttempts::ResponseStatus)
                        .integer()
                        .null(),
                )
                .col(ColumnDef::new(WebhookAttempts::Error).text().null())
                .col(
                    ColumnDef::new(WebhookAttempts::Succeeded)
                        .boolean()
                        .not_null(),
                )
                .foreign_key(&mut fk(
                    WebhookAttempts::Table,
                    WebhookAttempts::DeliveryId,
                    WebhookDeliveries::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ix_webhook_attempts_delivery",
            WebhookAttempts::Table,
            &["delivery_id", "id"],
            false,
        ))
        .await
}

async fn create_rate_windows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RateWindows::Table)
                .col(
                    ColumnDef::new(RateWindows::Bucket)
                        .string_len(80)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RateWindows::WindowStart)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(RateWindows::Cost).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(RateWindows::Bucket)
                        .col(RateWindows::WindowStart),
                )
                .to_owned(),
        )
        .await
}

async fn create_imports(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(ImportJobs::Table)
                .col(id(ImportJobs::Id))
                .col(reference(ImportJobs::PartnerId))
                .col(reference(ImportJobs::CreatedById))
                .col(ColumnDef::new(ImportJobs::ApiKeyId).big_integer().null())
                .col(ColumnDef::new(ImportJobs::Status).string_len(16).not_null())
                .col(ColumnDef::new(ImportJobs::Total).integer().not_null())
                .col(
                    ColumnDef::new(ImportJobs::IdempotencyKey)
                        .string_len(200)
                        .null(),
                )
                .col(timestamp(ImportJobs::CreatedAt))
                .col(
                    ColumnDef::new(ImportJobs::StartedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(ImportJobs::FinishedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(ImportJobs::LockedUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(&mut fk(
                    ImportJobs::Table,
                    ImportJobs::PartnerId,
                    Alias::new("partners"),
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ux_import_jobs_key",
            ImportJobs::Table,
            &["partner_id", "idempotency_key"],
            true,
        ))
        .await?;
    manager
        .create_index(index(
            "ix_import_jobs_status",
            ImportJobs::Table,
            &["status", "id"],
            false,
        ))
        .await?;
    manager
        .create_table(
            Table::create()
                .table(ImportRows::Table)
                .col(id(ImportRows::Id))
                .col(reference(ImportRows::JobId))
                .col(ColumnDef::new(ImportRows::RowIndex).integer().not_null())
                .col(ColumnDef::new(ImportRows::Input).text().not_null())
                .col(ColumnDef::new(ImportRows::Outcome).string_len(16).null())
                .col(
                    ColumnDef::new(ImportRows::RegistrationId)
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(ImportRows::Errors).text().null())
                .col(ColumnDef::new(ImportRows::Conflicts).text().null())
                .foreign_key(&mut fk(
                    ImportRows::Table,
                    ImportRows::JobId,
                    ImportJobs::Table,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "ux_import_rows_job",
            ImportRows::Table,
            &["job_id", "row_index"],
            true,
        ))
        .await
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Prefix,
    SecretHash,
    Scopes,
    PartnerId,
    CreatedById,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    EventType,
    SubjectId,
    PartnerId,
    Data,
    CreatedAt,
    DispatchedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Events,
    Description,
    PartnerId,
    CreatedById,
    Secret,
    CreatedAt,
    DisabledAt,
    DisabledReason,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    StartedAt,
    DurationMs,
    ResponseStatus,
    Error,
    Succeeded,
}

#[derive(DeriveIden)]
enum RateWindows {
    Table,
    Bucket,
    WindowStart,
    Cost,
}

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Id,
    PartnerId,
    CreatedById,
    ApiKeyId,
    Status,
    Total,
    IdempotencyKey,
    CreatedAt,
    StartedAt,
    FinishedAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum ImportRows {
    Table,
    Id,
    JobId,
    RowIndex,
    Input,
    Outcome,
    RegistrationId,
    Errors,
    Conflicts,
}
