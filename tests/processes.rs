//! Two real server processes on one PostgreSQL database, each request of a test's traffic
//! sent to either, and one of them killed with SIGKILL under write load. A server process is
//! this test binary run again with one ignored test, `server_process`, which serves with the
//! arguments it is given: the same code as `partnergraph serve`, in a process of its own.
//! SQLite is one server per file, so these are skipped there with a printed reason.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};

use crate::common::{ALICE_NORTHWIND, BOB_TIERTWO, DAVE_SUMMIT, DEMO_PASSWORD, LOGIN, MANAGER};

const SERVER_ARGS: &str = "PARTNERGRAPH_TEST_SERVER_ARGS";

/// Not a test: the body of a server process the tests below start.
#[tokio::test]
#[ignore = "run by the process tests as a server of their own"]
async fn server_process() {
    let Ok(args) = std::env::var(SERVER_ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("server arguments");
    partnergraph::cli::run_with(args).await;
}

/// A database of its own for one test, dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Option<Database> {
        let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        if admin.is_empty() {
            eprintln!("skipped on SQLite: replicas share one PostgreSQL (set TEST_DATABASE_URL)");
            return None;
        }
        let name = format!("t_proc_{:08x}", rand::random::<u32>());
        let connection = partnergraph::db::connect(&admin, None)
            .await
            .expect("admin");
        connection
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("a database path");
        Some(Database {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Dropped from a thread of its own: a test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async {
                if let Ok(connection) = partnergraph::db::connect(&admin, None).await {
                    let _ = connection
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    async fn start(database: &Database, demo: bool) -> Server {
        Server::start_on(&database.url, demo).await
    }

    /// A server process on the database at `url`, ready to answer.
    pub async fn start_on(url: &str, demo: bool) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut args = vec![
            "partnergraph".to_owned(),
            "--database-url".to_owned(),
            url.to_owned(),
            "serve".to_owned(),
            "--bind".to_owned(),
            format!("127.0.0.1:{port}"),
        ];
        if demo {
            args.push("--demo".to_owned());
        }
        // The tests' webhook receiver listens on 127.0.0.1.
        args.push("--webhook-allow-private".to_owned());
        let child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--exact",
                "processes::server_process",
                "--ignored",
                "--nocapture",
            ])
            .env(SERVER_ARGS, serde_json::to_string(&args).expect("json"))
            .env("PARTNERGRAPH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("a server process");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        let client = reqwest::Client::new();
        while Instant::now() < deadline {
            let ready = client.get(format!("{}/readyz", server.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server process did not become ready");
    }

    fn kill(&mut self) {
        // SIGKILL: no drain, no shutdown hook.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One GraphQL request; `None` when no answer came (the process is gone).
pub async fn gql_at(
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.timeout(Duration::from_secs(30)).send().await.ok()?;
    response.json().await.ok()
}

async fn login(base: &str, email: &str) -> String {
    let answer = gql_at(
        base,
        None,
        LOGIN,
        json!({ "i": { "email": email, "password": DEMO_PASSWORD } }),
    )
    .await
    .expect("an answer");
    answer["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

async fn first_id(base: &str, token: &str, query: &str, field: &str, name: &str) -> String {
    let answer = gql_at(base, Some(token), query, json!({}))
        .await
        .expect("an answer");
    answer["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .find(|e| e["node"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {answer}"))["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Registrations the write-load test sends, 10 ms apart.
const WRITES: usize = 200;

const REGISTER: &str = "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { code message } } }";

fn deal(customer: &str, product: &str, key: &str) -> Value {
    json!({ "i": { "customerName": customer, "customerDomain": "vandelay.example", "customerCountry": "US",
                   "productIds": [product], "estimatedValue": { "amount": "5000", "currency": "USD" },
                   "expectedCloseDate": "2027-06-30", "idempotencyKey": key, "submit": true } })
}

#[tokio::test]
async fn two_processes_approve_one_registration_send_its_webhook_once_and_never_overallocate() {
    let Some(database) = Database::create().await else {
        return;
    };
    let a = Server::start(&database, true).await;
    let b = Server::start(&database, false).await;
    let both = [a.base.clone(), b.base.clone()];
    let manager = login(&a.base, MANAGER).await;
    let product = first_id(
        &b.base,
        &manager,
        "{ products(first: 10){ edges { node { id name } } } }",
        "products",
        "PartnerGraph Cloud",
    )
    .await;
    // Each approval event is delivered once, whichever process's worker sends it.
    let (hook, received) = crate::common::webhook_receiver(vec![200]).await;
    let endpoint = gql_at(
        &b.base,
        Some(&manager),
        "mutation($i: CreateWebhookEndpointInput!){ createWebhookEndpoint(input: $i){ endpoint { id } userErrors { message } } }",
        json!({ "i": { "url": hook, "events": ["deal_registration.approved"] } }),
    )
    .await
    .expect("an answer");
    assert!(
        endpoint["data"]["createWebhookEndpoint"]["endpoint"]["id"].is_string(),
        "{endpoint}"
    );
    let mut ids = Vec::new();
    for (i, (email, name)) in [
        (ALICE_NORTHWIND, "Vandelay"),
        (DAVE_SUMMIT, "Vandelay Industries"),
        (BOB_TIERTWO, "Vandelay Inc"),
    ]
    .into_iter()
    .enumerate()
    {
        let token = login(&both[i % 2], email).await;
        let made = gql_at(
            &both[i % 2],
            Some(&token),
            REGISTER,
            deal(name, &product, &format!("v-{i}")),
        )
        .await
        .expect("answer");
        ids.push(made["data"]["registerDeal"]["dealRegistration"]["id"].clone());
    }
    let approve = "mutation($i: ApproveDealInput!){ approveDealRegistration(input: $i){ dealRegistration { status } userErrors { code } } }";
    let calls: Vec<_> = (0..21)
        .map(|round| {
            let (base, token, id) = (
                both[round % 2].clone(),
                manager.clone(),
                ids[round % 3].clone(),
            );
            tokio::spawn(async move {
                gql_at(&base, Some(&token), approve, json!({ "i": { "id": id } })).await
            })
        })
        .collect();
    let mut approved = 0;
    for call in calls {
        let answer = call.await.unwrap().expect("an answer");
        assert!(answer.get("errors").is_none(), "{answer}");
        if answer["data"]["approveDealRegistration"]["dealRegistration"]["status"] == "APPROVED" {
            approved += 1;
        }
    }
    assert_eq!(approved, 1, "one approval wins across two processes");
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both workers had their chance at it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let deliveries = received.lock().unwrap().len();
    assert_eq!(
        deliveries, 1,
        "the approval's webhook is sent once by the two processes"
    );

    // A budget of 1,000 and twenty allocations of 100 sent to both: at most ten succeed.
    let budget = gql_at(&a.base, Some(&manager),
        "mutation($i: CreateMdfBudgetInput!){ createMdfBudget(input: $i){ mdfBudget { id } userErrors { message } } }",
        json!({ "i": { "name": "Race budget", "amount": { "amount": "1000", "currency": "USD" }, "periodStart": "2026-01-01", "periodEnd": "2027-12-31" } }))
        .await
        .expect("answer")["data"]["createMdfBudget"]["mdfBudget"]["id"]
        .clone();
    let partner = first_id(
        &a.base,
        &manager,
        "{ partners(first: 50){ edges { node { id name } } } }",
        "partners",
        "Northwind",
    )
    .await;
    let allocate = "mutation($i: AllocateMdfInput!){ allocateMdf(input: $i){ mdfAllocation { id } userErrors { code } } }";
    let calls: Vec<_> = (0..20)
        .map(|round| {
            let (base, token) = (both[round % 2].clone(), manager.clone());
            let input = json!({ "i": { "budgetId": budget, "partnerId": partner, "amount": { "amount": "100", "currency": "USD" } } });
            tokio::spawn(async move { gql_at(&base, Some(&token), allocate, input).await })
        })
        .collect();
    let mut granted = 0;
    for call in calls {
        let answer = call.await.unwrap().expect("an answer");
        if answer["data"]["allocateMdf"]["mdfAllocation"]["id"].is_string() {
            granted += 1;
        }
    }
    assert_eq!(granted, 10, "the budget is allocated exactly, never over");
}

#[tokio::test]
async fn a_process_killed_under_write_load_loses_nothing_it_acknowledged() {
    let Some(database) = Database::create().await else {
        return;
    };
    let mut a = Server::start(&database, true).await;
    let b = Server::start(&database, false).await;
    let alice = login(&a.base, ALICE_NORTHWIND).await;
    let product = first_id(
        &b.base,
        &alice,
        "{ products(first: 10){ edges { node { id name } } } }",
        "products",
        "PartnerGraph Cloud",
    )
    .await;
    // Writers keep registering on A while it is killed, once a few writes were acknowledged.
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITES)
        .map(|i| {
            let (base, token, product) = (a.base.clone(), alice.clone(), product.clone());
            let acked = acked.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * i as u64)).await;
                let key = format!("load-{i}");
                let answer = gql_at(
                    &base,
                    Some(&token),
                    REGISTER,
                    deal(&format!("Load Customer {i}"), &product, &key),
                )
                .await;
                let id = answer.and_then(|a| {
                    a["data"]["registerDeal"]["dealRegistration"]["id"]
                        .as_str()
                        .map(str::to_owned)
                });
                if id.is_some() {
                    acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                (key, id)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.kill();
    let mut acknowledged = Vec::new();
    let mut unanswered = Vec::new();
    for writer in writers {
        match writer.await.unwrap() {
            (key, Some(id)) => acknowledged.push((key, id)),
            (key, None) => unanswered.push(key),
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "some writes were acknowledged before the kill"
    );
    // The client retries what got no answer on B with the same keys; acknowledged writes
    // retried there answer the same registration.
    for (i, key) in unanswered
        .iter()
        .chain(acknowledged.iter().map(|(k, _)| k))
        .enumerate()
    {
        let n: usize = key.trim_start_matches("load-").parse().unwrap();
        let answer = gql_at(
            &b.base,
            Some(&alice),
            REGISTER,
            deal(&format!("Load Customer {n}"), &product, key),
        )
        .await
        .expect("B answers");
        let id = answer["data"]["registerDeal"]["dealRegistration"]["id"].clone();
        assert!(id.is_string(), "{i}: {answer}");
        if let Some((_, first)) = acknowledged.iter().find(|(k, _)| k == key) {
            assert_eq!(
                id, *first,
                "a retry of an acknowledged write is the same registration"
            );
        }
    }
    let admin = partnergraph::db::connect(&database.url, None)
        .await
        .unwrap();
    let rows = admin
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT idempotency_key, count(*) FROM deal_registrations WHERE idempotency_key LIKE 'load-%' GROUP BY idempotency_key",
        ))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        WRITES,
        "every write is there once the client retried"
    );
    for row in rows {
        assert_eq!(row.try_get_by_index::<i64>(1).unwrap(), 1, "no duplicate");
    }
    admin.close().await.ok();
}

#[tokio::test]
async fn a_subscriber_on_one_process_hears_a_change_made_on_the_other() {
    use crate::integrations::{next_json, subscriber, CHANGES};
    let Some(database) = Database::create().await else {
        return;
    };
    let a = Server::start(&database, true).await;
    let b = Server::start(&database, false).await;
    let manager = login(&a.base, MANAGER).await;
    let address = a
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let mut watching = subscriber(address, &manager, CHANGES).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alice = login(&b.base, ALICE_NORTHWIND).await;
    let product = first_id(
        &b.base,
        &alice,
        "{ products(first: 10){ edges { node { id name } } } }",
        "products",
        "PartnerGraph Cloud",
    )
    .await;
    let made = gql_at(
        &b.base,
        Some(&alice),
        REGISTER,
        deal("Pendant Publishing", &product, "heard-1"),
    )
    .await
    .expect("an answer");
    let id = made["data"]["registerDeal"]["dealRegistration"]["id"].clone();
    let heard = next_json(&mut watching).await.expect("a change");
    assert_eq!(
        heard["payload"]["data"]["dealRegistrationChanged"]["registration"]["id"], id,
        "{heard}"
    );
}

#[tokio::test]
async fn processes_started_together_take_the_days_health_snapshot_once() {
    let Some(database) = Database::create().await else {
        return;
    };
    // A seeds the demo, takes today's snapshot and goes; the day is then made untaken.
    let a = Server::start(&database, true).await;
    let today = chrono::Utc::now().date_naive();
    let admin = partnergraph::db::connect(&database.url, None)
        .await
        .unwrap();
    let taken = || async {
        let sql = format!("SELECT count(*) FROM partner_health_snapshots WHERE day = '{today}'");
        admin
            .query_one(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    };
    // The partners a day's snapshot covers, as A took it (its job runs as it starts, beside
    // the first requests).
    let deadline = Instant::now() + Duration::from_secs(30);
    while taken().await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(a);
    let partners = taken().await;
    assert!(partners > 0, "A took today's snapshot");
    for statement in [
        format!("DELETE FROM partner_health_snapshots WHERE day = '{today}'"),
        "UPDATE settings SET value = '' WHERE key = 'health_snapshot_day'".to_owned(),
    ] {
        admin.execute_unprepared(&statement).await.unwrap();
    }
    // Two processes start at once; each runs the snapshot job as it starts.
    let (b, c) = tokio::join!(
        Server::start_on(&database.url, false),
        Server::start_on(&database.url, false)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while taken().await < partners && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both had their turn.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        taken().await,
        partners,
        "one snapshot per partner, not one per process"
    );
    drop((b, c));
    admin.close().await.ok();
}

#[tokio::test]
async fn processes_started_together_expire_and_reassign_each_due_item_once() {
    let Some(database) = Database::create().await else {
        return;
    };
    drop(Server::start(&database, true).await);
    let admin = partnergraph::db::connect(&database.url, None)
        .await
        .unwrap();
    let number = |sql: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .query_one(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        }
    };
    // Every approved registration's protection and every waiting lead's time to accept run out.
    let approved =
        number("SELECT count(*) FROM deal_registrations WHERE status = 'APPROVED'").await;
    let waiting = number("SELECT count(*) FROM leads WHERE status = 'ASSIGNED'").await;
    let excluded = number("SELECT count(*) FROM lead_exclusions").await;
    assert!(approved > 0 && waiting > 0, "the demo has both");
    for statement in [
        "UPDATE deal_registrations SET protected_until = now() - interval '1 hour' WHERE status = 'APPROVED'",
        "UPDATE leads SET accept_by = now() - interval '1 hour' WHERE status = 'ASSIGNED'",
    ] {
        admin.execute_unprepared(statement).await.unwrap();
    }
    // Two processes start at once; each runs both jobs as it starts.
    let (b, c) = tokio::join!(
        Server::start_on(&database.url, false),
        Server::start_on(&database.url, false)
    );
    let expired = "SELECT count(*) FROM deal_history WHERE to_status = 'EXPIRED'";
    let exclusions = "SELECT count(*) FROM lead_exclusions";
    let deadline = Instant::now() + Duration::from_secs(30);
    while (number(expired).await < approved || number(exclusions).await < excluded + waiting)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both had their turn.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        number(expired).await,
        approved,
        "each registration expired once"
    );
    let twice = number(
        "SELECT count(*) FROM (SELECT registration_id FROM deal_history WHERE to_status = 'EXPIRED' \
         GROUP BY registration_id HAVING count(*) > 1) t",
    )
    .await;
    assert_eq!(twice, 0);
    assert_eq!(
        number(exclusions).await,
        excluded + waiting,
        "each lead lapsed once"
    );
    drop((b, c));
    admin.close().await.ok();
}

#[tokio::test]
async fn claims_sent_to_both_processes_never_exceed_the_approved_amount() {
    let Some(database) = Database::create().await else {
        return;
    };
    let a = Server::start(&database, true).await;
    let b = Server::start(&database, false).await;
    let both = [a.base.clone(), b.base.clone()];
    let manager = login(&a.base, MANAGER).await;
    let alice = login(&b.base, ALICE_NORTHWIND).await;
    let usd = |amount: &str| json!({ "amount": amount, "currency": "USD" });
    let budget = gql_at(&a.base, Some(&manager),
        "mutation($i: CreateMdfBudgetInput!){ createMdfBudget(input: $i){ mdfBudget { id } } }",
        json!({ "i": { "name": "Claims race", "amount": usd("5000"), "periodStart": "2026-01-01", "periodEnd": "2027-12-31" } }))
        .await
        .expect("an answer")["data"]["createMdfBudget"]["mdfBudget"]["id"]
        .clone();
    let partner = first_id(
        &a.base,
        &manager,
        "{ partners(first: 50){ edges { node { id name } } } }",
        "partners",
        "Northwind",
    )
    .await;
    let allocation = gql_at(
        &a.base,
        Some(&manager),
        "mutation($i: AllocateMdfInput!){ allocateMdf(input: $i){ mdfAllocation { id } } }",
        json!({ "i": { "budgetId": budget, "partnerId": partner, "amount": usd("1000") } }),
    )
    .await
    .expect("an answer")["data"]["allocateMdf"]["mdfAllocation"]["id"]
        .clone();
    let made = gql_at(&b.base, Some(&alice),
        "mutation($i: CreateMdfRequestInput!){ createMdfRequest(input: $i){ mdfRequest { activities { id } } } }",
        json!({ "i": { "allocationId": allocation, "title": "Race roadshow", "activities": [{ "description": "Event", "amount": usd("1000") }] } }))
        .await
        .expect("an answer");
    let activity = made["data"]["createMdfRequest"]["mdfRequest"]["activities"][0]["id"].clone();
    let approved = gql_at(&a.base, Some(&manager),
        "mutation($i: ApproveMdfActivityInput!){ approveMdfActivity(input: $i){ mdfActivity { status } } }",
        json!({ "i": { "activityId": activity, "approvedAmount": usd("1000") } }))
        .await
        .expect("an answer");
    assert_eq!(
        approved["data"]["approveMdfActivity"]["mdfActivity"]["status"], "APPROVED",
        "{approved}"
    );
    let claim = "mutation($i: SubmitMdfClaimInput!){ submitMdfClaim(input: $i){ mdfClaim { amount { amount } } userErrors { code } } }";
    let calls: Vec<_> = (0..10)
        .map(|round| {
            let (base, token) = (both[round % 2].clone(), alice.clone());
            let input = json!({ "i": { "activityId": activity, "amount": usd("300"), "proofNote": format!("invoice {round}") } });
            tokio::spawn(async move { gql_at(&base, Some(&token), claim, input).await })
        })
        .collect();
    let mut claimed = rust_decimal::Decimal::ZERO;
    for call in calls {
        let answer = call.await.unwrap().expect("an answer");
        if let Some(amount) =
            answer["data"]["submitMdfClaim"]["mdfClaim"]["amount"]["amount"].as_str()
        {
            claimed += amount.parse::<rust_decimal::Decimal>().unwrap();
        }
    }
    assert!(
        claimed > rust_decimal::Decimal::ZERO,
        "a claim went through"
    );
    assert!(
        claimed <= rust_decimal::Decimal::new(1000, 0),
        "claims never exceed the approved amount: {claimed}"
    );
}

/// The statements `base`'s process has run, from its `/metrics`.
async fn statements_at(base: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("partnergraph_sql_statements_total "))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .expect("the statement counter") as u64
}

/// The HTTP status `base` answers `{ __typename }` with, sent with `bearer`.
async fn status_at(base: &str, bearer: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(bearer)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("an answer")
        .status()
        .as_u16()
}

/// Waits until `base` answers `bearer` without a statement (it remembers the caller).
async fn remembered_at(base: &str, bearer: &str) {
    for _ in 0..250 {
        let before = statements_at(base).await;
        assert_eq!(status_at(base, bearer).await, 200);
        if statements_at(base).await == before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{base} never answered the caller from memory");
}

/// Sends `bearer` to `base` until it is refused; panics if it is still accepted after 1 s.
async fn refused_within_a_second_at(base: &str, bearer: &str) {
    let started = Instant::now();
    loop {
        match status_at(base, bearer).await {
            401 => return,
            200 => assert!(
                started.elapsed() < Duration::from_secs(1),
                "still accepted after {:?}",
                started.elapsed()
            ),
            other => panic!("answered {other}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_logout_a_deactivation_and_a_revoked_key_on_one_process_are_refused_by_the_other_within_a_second(
) {
    let Some(database) = Database::create().await else {
        return;
    };
    let a = Server::start(&database, true).await;
    let b = Server::start(&database, false).await;

    let alice = login(&a.base, ALICE_NORTHWIND).await;
    remembered_at(&b.base, &alice).await;
    let out = gql_at(
        &a.base,
        Some(&alice),
        "mutation { logout { sessionsEnded } }",
        json!({}),
    )
    .await
    .expect("an answer");
    assert_eq!(out["data"]["logout"]["sessionsEnded"], 1, "{out}");
    refused_within_a_second_at(&b.base, &alice).await;

    let dave = login(&a.base, DAVE_SUMMIT).await;
    remembered_at(&b.base, &dave).await;
    let manager = login(&a.base, MANAGER).await;
    let me = gql_at(&b.base, Some(&dave), "{ me { id } }", json!({}))
        .await
        .expect("an answer");
    let off = gql_at(
        &a.base,
        Some(&manager),
        "mutation($i: DeactivateUserInput!){ deactivateUser(input: $i){ userErrors { code } } }",
        json!({ "i": { "id": me["data"]["me"]["id"] } }),
    )
    .await
    .expect("an answer");
    assert_eq!(
        off["data"]["deactivateUser"]["userErrors"],
        json!([]),
        "{off}"
    );
    refused_within_a_second_at(&b.base, &dave).await;

    let bob = login(&a.base, BOB_TIERTWO).await;
    let created = gql_at(
        &a.base,
        Some(&bob),
        "mutation($i: CreateApiKeyInput!){ createApiKey(input: $i){ secret apiKey { id } } }",
        json!({ "i": { "name": "CRM", "scopes": ["REGISTRATIONS_READ"] } }),
    )
    .await
    .expect("an answer");
    let key = created["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    remembered_at(&b.base, &key).await;
    gql_at(
        &a.base,
        Some(&bob),
        "mutation($i: RevokeApiKeyInput!){ revokeApiKey(input: $i){ apiKey { id } } }",
        json!({ "i": { "id": created["data"]["createApiKey"]["apiKey"]["id"] } }),
    )
    .await
    .expect("an answer");
    refused_within_a_second_at(&b.base, &key).await;
    // The manager's own session, untouched, is still answered from memory.
    remembered_at(&b.base, &manager).await;
}
