//! The raw baseline: the data of each read scenario fetched by hand-written SQL straight
//! from the database (no GraphQL, no HTTP, no authorisation), under the same concurrency
//! as the HTTP load. It prints one JSON line: requests/s, p50 and p99 in milliseconds.
//!
//! The SQL mirrors what the API must read for the scenario, in the fewest round trips a
//! careful hand-written service would use; it is the ceiling PartnerGraph is measured against.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    PortalHome,
    ReviewQueue,
    ContentSearch,
    RebateStatement,
}

#[derive(Parser)]
struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, value_enum)]
    scenario: Scenario,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of unmeasured load before the measured `seconds`.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// The partner whose portal / statement is read.
    #[arg(long)]
    partner_id: i64,
    #[arg(long, default_value_t = 0)]
    program_id: i64,
    #[arg(long, default_value = "pricing")]
    search: String,
}

type Result<T> = std::result::Result<T, sea_orm::DbErr>;

/// `?` placeholders rewritten for the backend.
fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DbBackend::Postgres => {
            let mut n = 0;
            text.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => text.to_owned(),
    };
    Statement::from_sql_and_values(backend, text, values)
}

fn list(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

fn ids(rows: &[QueryResult], column: &str) -> Vec<i64> {
    rows.iter()
        .filter_map(|r| r.try_get::<i64>("", column).ok())
        .collect()
}

fn strings(rows: &[QueryResult], column: &str) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r.try_get::<Option<String>>("", column).ok().flatten())
        .collect()
}

async fn all(db: &DatabaseConnection, text: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
    db.query_all(sql(db.get_database_backend(), text, values))
        .await
}

fn values(ids: &[i64]) -> Vec<Value> {
    if ids.is_empty() {
        return vec![Value::from(-1i64)];
    }
    ids.iter().map(|&i| Value::from(i)).collect()
}

/// Products and conflict candidates (registrations and accounts by name token or domain
/// root) of a page of registrations.
async fn registrations_detail(db: &DatabaseConnection, page: &[QueryResult]) -> Result<usize> {
    let reg_ids = ids(page, "id");
    let products = all(
        db,
        &format!(
            "SELECT rp.registration_id, p.name, p.sku FROM deal_registration_products rp \
             JOIN products p ON p.id = rp.product_id WHERE rp.registration_id IN ({})",
            list(reg_ids.len())
        ),
        values(&reg_ids),
    )
    .await?;
    let tokens = strings(page, "customer_name_token");
    let roots = strings(page, "customer_root");
    let mut keys: Vec<Value> = tokens.iter().map(|t| Value::from(t.clone())).collect();
    keys.extend(roots.iter().map(|r| Value::from(r.clone())));
    let candidates = all(
        db,
        &format!(
            "SELECT id, partner_id, customer_name_key, customer_domain, submitted_at, status \
             FROM deal_registrations WHERE id IN ( \
               SELECT id FROM deal_registrations WHERE customer_name_token IN ({}) \
                 AND status IN ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED') \
               UNION SELECT id FROM deal_registrations WHERE customer_root IN ({}) \
                 AND status IN ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED'))",
            list(tokens.len()),
            list(roots.len())
        ),
        pad(keys.clone(), tokens.len(), roots.len()),
    )
    .await?;
    let candidate_ids = ids(&candidates, "id");
    let candidate_products = all(
        db,
        &format!(
            "SELECT registration_id, product_id FROM deal_registration_products \
             WHERE registration_id IN ({})",
            list(candidate_ids.len())
        ),
        values(&candidate_ids),
    )
    .await?;
    let accounts = all(
        db,
        &format!(
            "SELECT a.id, a.name_key, a.ownership, a.is_customer, d.domain FROM accounts a \
             LEFT JOIN account_domains d ON d.account_id = a.id WHERE a.name_token IN ({}) \
             OR a.id IN (SELECT account_id FROM account_domains WHERE root IN ({}))",
            list(tokens.len()),
            list(roots.len())
        ),
        pad(keys, tokens.len(), roots.len()),
    )
    .await?;
    Ok(products.len() + candidate_products.len() + accounts.len())
}

/// `IN ()` lists never empty: a missing list gets one value that matches nothing.
fn pad(keys: Vec<Value>, tokens: usize, roots: usize) -> Vec<Value> {
    let mut out: Vec<Value> = keys[..tokens].to_vec();
    if tokens == 0 {
        out.push(Value::from(String::new()));
    }
    out.extend(keys[tokens..].iter().cloned());
    if roots == 0 {
        out.push(Value::from(String::new()));
    }
    out
}

async fn portal_home(db: &DatabaseConnection, args: &Args) -> Result<usize> {
    let me = all(
        db,
        "SELECT u.name, p.name AS partner, p.partner_type, p.region, t.name AS tier, t.rank \
         FROM users u JOIN partners p ON p.id = u.partner_id LEFT JOIN tiers t ON t.id = p.tier_id \
         WHERE u.partner_id = ? ORDER BY u.id LIMIT 1",
        vec![args.partner_id.into()],
    )
    .await?;
    let rank: i32 = me
        .first()
        .and_then(|r| r.try_get::<Option<i32>>("", "rank").ok().flatten())
        .unwrap_or(0);
    let page = all(
        db,
        "SELECT * FROM deal_registrations WHERE partner_id = ? ORDER BY id DESC LIMIT 20",
        vec![args.partner_id.into()],
    )
    .await?;
    let count = all(
        db,
        "SELECT COUNT(*) AS n FROM deal_registrations WHERE partner_id = ?",
        vec![args.partner_id.into()],
    )
    .await?;
    let detail = registrations_detail(db, &page).await?;
    let contents = all(
        db,
        "SELECT c.* FROM contents c WHERE c.internal_only = ? \
         AND (c.min_tier_rank IS NULL OR c.min_tier_rank <= ?) \
         AND NOT EXISTS (SELECT 1 FROM content_audience a WHERE a.content_id = c.id AND a.dimension = 'REGION') \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT 20",
        vec![false.into(), rank.into()],
    )
    .await?;
    let content_ids = ids(&contents, "id");
    let labels = all(
        db,
        &format!(
            "SELECT content_id, dimension, value FROM content_labels WHERE content_id IN ({})",
            list(content_ids.len())
        ),
        values(&content_ids),
    )
    .await?;
    Ok(me.len() + page.len() + count.len() + detail + labels.len())
}

async fn review_queue(db: &DatabaseConnection) -> Result<usize> {
    let page = all(
        db,
        "SELECT r.* FROM deal_registrations r WHERE r.review_lane IS NOT NULL \
         ORDER BY r.review_lane, r.submitted_at, r.id LIMIT 50",
        vec![],
    )
    .await?;
    let count = all(
        db,
        "SELECT COUNT(*) AS n FROM deal_registrations WHERE review_lane IS NOT NULL",
        vec![],
    )
    .await?;
    let partner_ids = ids(&page, "partner_id");
    let partners = all(
        db,
        &format!(
            "SELECT p.id, p.name, t.name AS tier FROM partners p LEFT JOIN tiers t ON t.id = p.tier_id \
             WHERE p.id IN ({})",
            list(partner_ids.len())
        ),
        values(&partner_ids),
    )
    .await?;
    let detail = registrations_detail(db, &page).await?;
    Ok(page.len() + count.len() + partners.len() + detail)
}

async fn content_search(db: &DatabaseConnection, args: &Args) -> Result<usize> {
    let ranked = match db.get_database_backend() {
        DbBackend::Postgres => {
            all(
                db,
                "SELECT id FROM contents WHERE search_vector @@ plainto_tsquery('english', ?) \
                 ORDER BY ts_rank(search_vector, plainto_tsquery('english', ?)) DESC, id LIMIT 20",
                vec![args.search.clone().into(), args.search.clone().into()],
            )
            .await?
        }
        _ => {
            all(
                db,
                "SELECT rowid AS id FROM content_search WHERE content_search MATCH ? \
                 ORDER BY bm25(content_search, 10.0, 1.0, 5.0), rowid LIMIT 20",
                vec![format!("\"{}\"*", args.search).into()],
            )
            .await?
        }
    };
    let found = ids(&ranked, "id");
    let contents = all(
        db,
        &format!(
            "SELECT * FROM contents WHERE id IN ({}) AND internal_only = ?",
            list(found.len())
        ),
        {
            let mut v = values(&found);
            v.push(false.into());
            v
        },
    )
    .await?;
    let labels = all(
        db,
        &format!(
            "SELECT content_id, dimension, value FROM content_labels WHERE content_id IN ({})",
            list(found.len())
        ),
        values(&found),
    )
    .await?;
    Ok(contents.len() + labels.len())
}

async fn rebate_statement(db: &DatabaseConnection, args: &Args) -> Result<usize> {
    let program = all(
        db,
        "SELECT * FROM rebate_programs WHERE id = ?",
        vec![args.program_id.into()],
    )
    .await?;
    let eligible = all(
        db,
        "SELECT 1 FROM rebate_eligibility e JOIN partners p ON p.id = ? \
         WHERE e.program_id = ? AND (e.partner_id = p.id OR e.tier_id = p.tier_id)",
        vec![args.partner_id.into(), args.program_id.into()],
    )
    .await?;
    let measure = all(
        db,
        "SELECT CAST(COALESCE(SUM(closed_amount_minor), 0) AS BIGINT) AS total FROM deal_registrations \
         WHERE partner_id = ? AND status = 'WON' AND currency = 'USD' \
         AND closed_at >= (SELECT period_start FROM rebate_programs WHERE id = ?)",
        vec![args.partner_id.into(), args.program_id.into()],
    )
    .await?;
    let paid = all(
        db,
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM ledger_entries \
         WHERE program_id = ? AND partner_id = ? AND kind = 'PAYOUT'",
        vec![args.program_id.into(), args.partner_id.into()],
    )
    .await?;
    Ok(program.len() + eligible.len() + measure.len() + paid.len())
}

async fn once(db: &DatabaseConnection, args: &Args) -> Result<usize> {
    match args.scenario {
        Scenario::PortalHome => portal_home(db, args).await,
        Scenario::ReviewQueue => review_queue(db).await,
        Scenario::ContentSearch => content_search(db, args).await,
        Scenario::RebateStatement => rebate_statement(db, args).await,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The latencies of `args.concurrency` tasks running the scenario for `seconds`.
async fn drive(db: &DatabaseConnection, args: &Arc<Args>, seconds: f64) -> Vec<Duration> {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (db, args) = (db.clone(), args.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let start = Instant::now();
                once(&db, &args).await.expect("query");
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    latencies
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    // The server's own pool and connection settings.
    let db = partnergraph::db::connect(&args.database_url, None)
        .await
        .expect("connect");
    once(&db, &args).await.expect("the scenario's SQL runs");
    // Unmeasured, as the HTTP scenarios' warm-up: connections open, statements prepared.
    drive(&db, &args, args.warmup).await;
    let mut latencies = drive(&db, &args, args.seconds).await;
    latencies.sort();
    println!(
        "{}",
        serde_json::json!({
            "requests": latencies.len(),
            "rps": latencies.len() as f64 / args.seconds,
            "p50_ms": percentile(&latencies, 0.50),
            "p99_ms": percentile(&latencies, 0.99),
        })
    );
}
