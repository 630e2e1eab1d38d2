//! What the channel metrics keep instead of reading again: the program's facts of each
//! whole past month, and every partner's health signals as of the last refresh.
//!
//! A year of program metrics by month read from the registrations and content events was
//! 220 ms on SQLite at 200,000 registrations (~400,000 index rows walked per request). A
//! past month's facts do not change on the API's paths, which stamp facts with the current
//! time: they are computed once, on first read, and kept in `metric_month_facts`. The
//! writes that do reach into a past month (an import or seed with historical times, a
//! deleted registration) go through triggers that forget that month in the same
//! transaction, so a kept month cannot disagree with its rows whatever wrote them.
//!
//! The month's producing partners are one row's `partner_ids` (comma-separated): a year of
//! them one row each was 26,000 rows to decode per report.
//!
//! `partner_health_signals` holds the leading indicators of every measured partner, as a
//! refresh job computed them, so `atRiskPartners` ranks 20,000 partners from one table
//! (235 ms on SQLite when every signal was read from the activity tables per request).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(month_facts()).await?;
        manager.create_table(health_signals()).await?;
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => postgres_triggers(),
            _ => sqlite_triggers(),
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the kept metrics migration cannot be reverted".into(),
        ))
    }
}

fn big(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn month_facts() -> TableCreateStatement {
    Table::create()
        .table(MetricMonthFacts::Table)
        .col(ColumnDef::new(MetricMonthFacts::Month).date().not_null())
        .col(ColumnDef::new(MetricMonthFacts::Fact).string().not_null())
        .col(ColumnDef::new(MetricMonthFacts::Key).string().not_null())
        .col(big(MetricMonthFacts::Value))
        .col(big(MetricMonthFacts::N))
        .col(big(MetricMonthFacts::Amount))
        .col(
            ColumnDef::new(MetricMonthFacts::PartnerIds)
                .text()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(MetricMonthFacts::Month)
                .col(MetricMonthFacts::Fact)
                .col(MetricMonthFacts::Key)
                .col(MetricMonthFacts::Value),
        )
        .to_owned()
}

fn health_signals() -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(PartnerHealthSignals::Table)
        .col(
            ColumnDef::new(PartnerHealthSignals::PartnerId)
                .big_integer()
                .not_null()
                .primary_key(),
        )
        .foreign_key(&mut fk(
            PartnerHealthSignals::Table,
            PartnerHealthSignals::PartnerId,
            Partners::Table,
            ForeignKeyAction::Cascade,
        ));
    for column in [
        PartnerHealthSignals::RegistrationsRecent,
        PartnerHealthSignals::RegistrationsBefore,
        PartnerHealthSignals::EngagementRecent,
        PartnerHealthSignals::EngagementBefore,
        PartnerHealthSignals::Completions,
        PartnerHealthSignals::Certifications,
        PartnerHealthSignals::CertificationsExpiring,
        PartnerHealthSignals::WinsLastYear,
        PartnerHealthSignals::LoginsRecent,
        PartnerHealthSignals::LoginsBefore,
    ] {
        table.col(big(column));
    }
    table
        .col(ColumnDef::new(PartnerHealthSignals::DaysSinceLastWin).big_integer())
        .to_owned()
}

/// The tables whose rows the kept months count, and each one's timestamps.
const WATCHED: [(&str, &[&str], &[&str]); 3] = [
    (
        "deal_registrations",
        &["submitted_at", "decided_at", "closed_at"],
        &[
            "partner_id",
            "status",
            "currency",
            "closed_amount_minor",
            "approved_at",
        ],
    ),
    ("content_events", &["created_at"], &["partner_id", "kind"]),
    ("course_completions", &["completed_at"], &["user_id"]),
];

fn sqlite_past(time: &str) -> String {
    format!("{time} < strftime('%Y-%m-01', 'now')")
}

fn sqlite_month(time: &str) -> String {
    format!("date({time}, 'start of month')")
}

/// Forgets the kept months of the `row`'s (`OLD` or `NEW`) times.
fn forget(row: &str, times: &[&str], month: fn(&str) -> String) -> String {
    let months: Vec<String> = times.iter().map(|t| month(&format!("{row}.{t}"))).collect();
    format!(
        "DELETE FROM metric_month_facts WHERE month IN ({})",
        months.join(", ")
    )
}

/// Any of the `row`'s times before the current month.
fn any_past(row: &str, times: &[&str], past: fn(&str) -> String) -> String {
    times
        .iter()
        .map(|t| format!("({})", past(&format!("{row}.{t}"))))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn sqlite_triggers() -> Vec<String> {
    let mut statements = Vec::new();
    for (table, times, others) in WATCHED {
        let columns: Vec<&str> = times.iter().chain(others.iter()).copied().collect();
        statements.push(format!(
            "CREATE TRIGGER {table}_past_inserted AFTER INSERT ON {table} WHEN {} \
             BEGIN {}; END",
            any_past("NEW", times, sqlite_past),
            forget("NEW", times, sqlite_month),
        ));
        statements.push(format!(
            "CREATE TRIGGER {table}_past_deleted AFTER DELETE ON {table} WHEN {} \
             BEGIN {}; END",
            any_past("OLD", times, sqlite_past),
            forget("OLD", times, sqlite_month),
        ));
        statements.push(format!(
            "CREATE TRIGGER {table}_past_updated AFTER UPDATE OF {} ON {table} WHEN {} OR {} \
             BEGIN {}; {}; END",
            columns.join(", "),
            any_past("OLD", times, sqlite_past),
            any_past("NEW", times, sqlite_past),
            forget("OLD", times, sqlite_month),
            forget("NEW", times, sqlite_month),
        ));
    }
    statements
}

fn postgres_past(time: &str) -> String {
    format!("{time} < date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'")
}

fn postgres_month(time: &str) -> String {
    format!("CAST(date_trunc('month', {time} AT TIME ZONE 'UTC') AS DATE)")
}

fn postgres_triggers() -> Vec<String> {
    let mut statements = Vec::new();
    for (table, times, others) in WATCHED {
        let columns: Vec<&str> = times.iter().chain(others.iter()).copied().collect();
        statements.push(format!(
            "CREATE FUNCTION {table}_forget_months() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF TG_OP IN ('DELETE', 'UPDATE') THEN {}; END IF; \
               IF TG_OP IN ('INSERT', 'UPDATE') THEN {}; END IF; \
               RETURN NULL; \
             END $$",
            forget("OLD", times, postgres_month),
            forget("NEW", times, postgres_month),
        ));
        statements.push(format!(
            "CREATE TRIGGER {table}_past_inserted AFTER INSERT ON {table} \
             FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {table}_forget_months()",
            any_past("NEW", times, postgres_past),
        ));
        statements.push(format!(
            "CREATE TRIGGER {table}_past_deleted AFTER DELETE ON {table} \
             FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {table}_forget_months()",
            any_past("OLD", times, postgres_past),
        ));
        statements.push(format!(
            "CREATE TRIGGER {table}_past_updated AFTER UPDATE OF {} ON {table} \
             FOR EACH ROW WHEN ({} OR {}) EXECUTE FUNCTION {table}_forget_months()",
            columns.join(", "),
            any_past("OLD", times, postgres_past),
            any_past("NEW", times, postgres_past),
        ));
    }
    statements
}

#[derive(DeriveIden)]
enum MetricMonthFacts {
    Table,
    Month,
    Fact,
    Key,
    Value,
    N,
    Amount,
    PartnerIds,
}

#[derive(DeriveIden)]
enum PartnerHealthSignals {
    Table,
    PartnerId,
    RegistrationsRecent,
    RegistrationsBefore,
    EngagementRecent,
    EngagementBefore,
    Completions,
    Certifications,
    CertificationsExpiring,
    DaysSinceLastWin,
    WinsLastYear,
    LoginsRecent,
    LoginsBefore,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
}
