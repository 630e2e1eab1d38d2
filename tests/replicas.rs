//! Two replicas on one database, in process (each its own pool, caches, event bus and
//! workers), each request of a test's traffic sent to either: what must hold across replicas
//! holds. Separate server processes and faults (kill -9, a database restart) are not here yet.

use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};

use crate::common::*;

const REGISTER: &str = "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { code } } }";
const APPROVE: &str = "mutation($i: ApproveDealInput!){ approveDealRegistration(input: $i){ dealRegistration { status } userErrors { code } } }";

fn deal(customer: &str, product: &str, key: Option<&str>) -> Value {
    json!({ "i": { "customerName": customer, "customerDomain": "initrode.example", "customerCountry": "US",
                   "productIds": [product], "estimatedValue": { "amount": "5000", "currency": "USD" },
                   "expectedCloseDate": "2027-06-30", "idempotencyKey": key, "submit": true } })
}

/// The two replicas: the test app's own router and a second one on its database.
async fn replicas(app: &TestApp) -> [Router; 2] {
    [app.router.clone(), app.replica(test_auth_config()).await]
}

#[tokio::test]
async fn conflicting_approvals_sent_to_both_replicas_protect_one_registration() {
    let app = TestApp::demo().await;
    let both = replicas(&app).await;
    let product = product_id(&app, "PartnerGraph Cloud").await;
    let mut ids = Vec::new();
    for (email, name) in [
        (ALICE_NORTHWIND, "Initrode"),
        (DAVE_SUMMIT, "Initrode Inc"),
        (BOB_TIERTWO, "Initrode Incorporated"),
    ] {
        let created = app
            .gql_as(email, REGISTER, deal(name, &product, None))
            .await;
        ids.push(created["data"]["registerDeal"]["dealRegistration"]["id"].clone());
    }
    let manager = app.login(MANAGER).await;
    let calls = (0..21).map(|round| {
        let router = both[round % 2].clone();
        let (token, id) = (manager.clone(), ids[round % 3].clone());
        tokio::spawn(async move {
            gql_on(&router, Some(&token), APPROVE, json!({ "i": { "id": id } })).await
        })
    });
    let mut approved = 0;
    for call in calls.collect::<Vec<_>>() {
        let answer = call.await.expect("answered");
        assert!(answer.get("errors").is_none(), "{answer}");
        if answer["data"]["approveDealRegistration"]["dealRegistration"]["status"] == "APPROVED" {
            approved += 1;
        }
    }
    assert_eq!(approved, 1, "one approval wins across both replicas");
}

#[tokio::test]
async fn retries_of_one_idempotency_key_on_both_replicas_make_one_registration() {
    let app = TestApp::demo().await;
    let both = replicas(&app).await;
    let product = product_id(&app, "PartnerGraph Cloud").await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let calls = (0..10).map(|round| {
        let router = both[round % 2].clone();
        let (token, input) = (
            alice.clone(),
            deal("Retry Corp", &product, Some("crm-order-4711")),
        );
        tokio::spawn(async move { gql_on(&router, Some(&token), REGISTER, input).await })
    });
    let mut ids = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        let answer = call.await.expect("answered");
        ids.push(answer["data"]["registerDeal"]["dealRegistration"]["id"].clone());
    }
    assert!(
        ids.iter().all(|id| id.is_string() && *id == ids[0]),
        "{ids:?}"
    );
    let rows = app
        .db
        .query_one(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT count(*) FROM deal_registrations WHERE idempotency_key = 'crm-order-4711'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(rows, 1);
}

/// The second replica's router and statement counter, to see what it answers from memory.
async fn second_replica(app: &TestApp) -> (Router, partnergraph::db::StatementCounter) {
    let state = app.replica_state(test_auth_config()).await;
    let counter = state.statements.clone();
    (partnergraph::http::router(state), counter)
}

#[tokio::test]
async fn a_key_revoked_on_one_replica_is_refused_on_the_other_within_a_second() {
    let app = TestApp::demo().await;
    let a = app.router.clone();
    let (b, b_statements) = second_replica(&app).await;
    let key = app
        .api_key(ALICE_NORTHWIND, "CRM", &["REGISTRATIONS_READ"])
        .await;
    // B checks the key once, then answers it from memory.
    remembered_on(&b, &b_statements, &key).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let listed = gql_on(
        &a,
        Some(&alice),
        "{ apiKeys(first: 10){ edges { node { id name } } } }",
        json!({}),
    )
    .await;
    let id = listed["data"]["apiKeys"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .find(|e| e["node"]["name"] == "CRM")
        .unwrap()["node"]["id"]
        .clone();
    gql_on(
        &a,
        Some(&alice),
        "mutation($i: RevokeApiKeyInput!){ revokeApiKey(input: $i){ apiKey { id } } }",
        json!({ "i": { "id": id } }),
    )
    .await;
    refused_within(&b, &key, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_logout_or_a_deactivation_on_one_replica_is_refused_on_the_other_within_a_second() {
    let app = TestApp::demo().await;
    let a = app.router.clone();
    let (b, b_statements) = second_replica(&app).await;

    let alice = app.login(ALICE_NORTHWIND).await;
    remembered_on(&b, &b_statements, &alice).await;
    let out = gql_on(
        &a,
        Some(&alice),
        "mutation { logout { sessionsEnded } }",
        json!({}),
    )
    .await;
    assert_eq!(out["data"]["logout"]["sessionsEnded"], 1, "{out}");
    refused_within(&b, &alice, Duration::from_secs(1)).await;

    // A deactivated user's live session on the other replica.
    let member = northwind_member(&app).await;
    let me = app.gql(Some(&member), "{ me { id } }", json!({})).await;
    let member_id = me["data"]["me"]["id"].clone();
    remembered_on(&b, &b_statements, &member).await;
    let manager = app.login(MANAGER).await;
    let off = gql_on(
        &a,
        Some(&manager),
        "mutation($i: DeactivateUserInput!){ deactivateUser(input: $i){ user { id } userErrors { code } } }",
        json!({ "i": { "id": member_id } }),
    )
    .await;
    assert_eq!(
        off["data"]["deactivateUser"]["userErrors"],
        json!([]),
        "{off}"
    );
    refused_within(&b, &member, Duration::from_secs(1)).await;
    // Others' sessions stay remembered.
    remembered_on(&b, &b_statements, &manager).await;
}

#[tokio::test]
async fn replicas_started_together_apply_each_migration_once() {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if url.is_empty() {
        eprintln!("skipped on SQLite: one server owns a database file; replicas share PostgreSQL");
        return;
    }
    let schema = format!("t_migrate_{:08x}", rand::random::<u32>());
    let admin = partnergraph::db::connect(&url, None).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let a = partnergraph::db::connect(&url, Some(&schema))
        .await
        .unwrap();
    let b = partnergraph::db::connect(&url, Some(&schema))
        .await
        .unwrap();
    let (first, second) =
        tokio::join!(partnergraph::db::migrate(&a), partnergraph::db::migrate(&b));
    let applied = a
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await
        .map(|row| row.unwrap().try_get_by_index::<i64>(0).unwrap());
    admin
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    first.expect("the first replica migrates");
    second.expect("the second waits, then finds nothing to do");
    assert_eq!(
        applied.unwrap() as usize,
        <migration::Migrator as migration::MigratorTrait>::migrations().len()
    );
}

#[tokio::test]
async fn a_users_rate_limit_holds_across_both_replicas() {
    use partnergraph::config::{HttpConfig, RateLimits};
    let app = TestApp::demo_with_http(HttpConfig {
        rate_limits: RateLimits {
            per_user: 30,
            ..RateLimits::default()
        },
        ..HttpConfig::default()
    })
    .await;
    let [a, b] = replicas(&app).await;
    let token = app.login(ALICE_NORTHWIND).await;
    // Windows are whole minutes: start early in one, so both halves count in the same window.
    let into_minute = chrono::Utc::now().timestamp().rem_euclid(60);
    if into_minute > 45 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - into_minute) as u64)).await;
    }
    let me = json!({ "query": "{ me { id } }" });
    let mut answered = Vec::new();
    for _ in 0..20 {
        answered.push(send_to(&a, graphql_request(Some(&token), &me)).await.status);
    }
    // B meets the caller: within about a second (the documented overrun) it learns what A
    // counted, as each replica shares its counts and reads the others' once a second.
    answered.push(send_to(&b, graphql_request(Some(&token), &me)).await.status);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    for _ in 0..19 {
        answered.push(send_to(&b, graphql_request(Some(&token), &me)).await.status);
    }
    let ok = answered.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = answered
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, limited), (30, 10), "{answered:?}");
}

#[tokio::test]
async fn an_import_held_by_a_replica_that_died_is_finished_by_the_other_once_its_lease_runs_out() {
    use entity::import_job;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::demo().await;
    let other = app.replica_state(test_auth_config()).await;
    let product = product_id(&app, "PartnerGraph Cloud").await;
    let key = app
        .api_key(ALICE_NORTHWIND, "CRM import", &["REGISTRATIONS_WRITE"])
        .await;
    let rows: Vec<Value> = (0..10)
        .map(|i| json!({ "externalId": format!("lease-{i}"), "customerName": format!("Lease Customer {i}"),
                         "productIds": [product], "estimatedValue": { "amount": "100", "currency": "USD" },
                         "expectedCloseDate": "2027-06-30" }))
        .collect();
    let accepted = app
        .gql(Some(&key), "mutation($i: ImportDealRegistrationsInput!){ importDealRegistrations(input: $i){ importJob { id status } } }",
             json!({ "i": { "rows": rows } }))
        .await;
    let job = accepted["data"]["importDealRegistrations"]["importJob"]["id"].clone();
    assert!(job.is_string(), "{accepted}");
    // Replica A claimed the job and was killed: the job stays RUNNING under A's lease.
    let lease = |until: chrono::DateTime<chrono::Utc>| {
        import_job::Entity::update_many()
            .col_expr(import_job::Column::Status, Expr::value("RUNNING"))
            .col_expr(import_job::Column::LockedUntil, Expr::value(Some(until)))
            .filter(import_job::Column::Status.ne("COMPLETED"))
    };
    lease(chrono::Utc::now() + chrono::Duration::seconds(60))
        .exec(&app.db)
        .await
        .unwrap();
    let while_held = partnergraph::integrations::imports::service::run_once(&other.db)
        .await
        .unwrap();
    assert_eq!(while_held, 0, "B leaves a job whose lease still runs");
    // The lease runs out (as 60 s after A's last renewal): B takes the job over and finishes it.
    lease(chrono::Utc::now() - chrono::Duration::seconds(1))
        .exec(&app.db)
        .await
        .unwrap();
    let taken_over = partnergraph::integrations::imports::service::run_once(&other.db)
        .await
        .unwrap();
    assert_eq!(taken_over, 10);
    let done = app
        .gql(
            Some(&key),
            "query($id: ID!){ importJob(id: $id){ status processed created } }",
            json!({ "id": job }),
        )
        .await;
    assert_eq!(done["data"]["importJob"]["status"], "COMPLETED", "{done}");
    assert_eq!(done["data"]["importJob"]["created"], 10);
    // Once done, neither replica runs it again.
    let (a, b) = tokio::join!(
        partnergraph::integrations::imports::service::run_once(&app.state.db),
        partnergraph::integrations::imports::service::run_once(&other.db)
    );
    assert_eq!((a.unwrap(), b.unwrap()), (0, 0));
}
