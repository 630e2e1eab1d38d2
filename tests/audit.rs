//! The audit log: every mutation (who, role, session or API key, client address, operation,
//! the objects it named, outcome, time), append-only, read by managers whole and by a
//! partner's org admin for its own organisation.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::common::*;

const EVENTS: &str = "query($f: AuditEventFilter){ auditEvents(first: 50, filter: $f){ totalCount edges { node {
    id at actor { id } actorRole partner { name } via apiKeyId clientAddress operationName fields objectIds outcome errorCodes } } } }";

/// Runs `query` as `token` from the client address `from`.
async fn from(
    app: &TestApp,
    from: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = graphql_request(token, &json!({ "query": query, "variables": variables }));
    let peer: SocketAddr = format!("{from}:40000").parse().expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await.json()
}

async fn events(app: &TestApp, token: &str, filter: Value) -> Value {
    let read = app.gql(Some(token), EVENTS, json!({ "f": filter })).await;
    assert!(read["errors"].is_null(), "{read}");
    read["data"]["auditEvents"].clone()
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{connection}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn every_mutation_is_kept_with_who_where_what_and_how_it_ended() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let alice_id = user_id(&app, ALICE_NORTHWIND).await;
    let product = product_id(&app, "PartnerGraph Cloud").await;
    let registered = from(
        &app,
        "203.0.113.7",
        Some(&alice),
        "mutation RegisterFromCrm($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { code } } }",
        json!({ "i": { "customerName": "Audit Trail Ltd", "productIds": [product], "submit": true,
                       "expectedCloseDate": "2027-06-30", "estimatedValue": { "amount": "100", "currency": "USD" } } }),
    )
    .await;
    let registration = registered["data"]["registerDeal"]["dealRegistration"]["id"].clone();
    assert!(registration.is_string(), "{registered}");
    let rejected = from(
        &app,
        "203.0.113.7",
        Some(&alice),
        "mutation Bad($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { code } } }",
        json!({ "i": { "customerName": " ", "productIds": [product], "expectedCloseDate": "2027-06-30",
                       "estimatedValue": { "amount": "100", "currency": "USD" } } }),
    )
    .await;
    assert!(
        rejected["data"]["registerDeal"]["dealRegistration"].is_null(),
        "{rejected}"
    );
    let forbidden = from(
        &app,
        "203.0.113.7",
        Some(&alice),
        "mutation Sneaky($i: CreateJointBusinessPlanInput!){ createJointBusinessPlan(input: $i){ userErrors { code } } }",
        json!({ "i": { "partnerId": partner_id(&app, "Northwind").await, "name": "mine",
                       "periodStart": "2027-01-01", "periodEnd": "2027-03-31" } }),
    )
    .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));

    // The manager lists the Northwind user's last mutations, newest first.
    let theirs = nodes(&events(&app, &manager, json!({ "actorId": alice_id })).await);
    let last: Vec<(&str, &str)> = theirs
        .iter()
        .take(3)
        .map(|e| {
            (
                e["operationName"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        last,
        vec![
            ("Sneaky", "FAILED"),
            ("Bad", "REJECTED"),
            ("RegisterFromCrm", "SUCCEEDED")
        ]
    );
    let ok = &theirs[2];
    assert_eq!(ok["clientAddress"], "203.0.113.7");
    assert_eq!(ok["via"], "SESSION");
    assert_eq!(ok["actorRole"], "PARTNER");
    assert_eq!(ok["partner"]["name"], "Northwind");
    assert_eq!(ok["fields"], json!(["registerDeal"]));
    let ids = ok["objectIds"].as_array().unwrap();
    assert!(
        ids.contains(&registration) && ids.contains(&json!(product)),
        "{ok}"
    );
    assert_eq!(theirs[0]["errorCodes"], json!(["FORBIDDEN"]));
    assert!(theirs[1]["errorCodes"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));

    // A login is kept as the user who signed in; an API key's mutation says so.
    let logins = nodes(
        &events(
            &app,
            &manager,
            json!({ "actorId": alice_id, "field": "login" }),
        )
        .await,
    );
    assert!(
        !logins.is_empty() && logins.iter().all(|e| e["outcome"] == "SUCCEEDED"),
        "{logins:?}"
    );
    let key = app.api_key(ALICE_NORTHWIND, "CRM", &["LEADS_WRITE"]).await;
    let waiting = app
        .post(Some(&key), json!({ "query": "{ leads(first: 1, filter: { statuses: [ASSIGNED] }){ edges { node { id } } } }" }))
        .await
        .json();
    let lead = waiting["data"]["leads"]["edges"][0]["node"]["id"].clone();
    app.post(
        Some(&key),
        json!({ "query": "mutation KeyAccept($i: AcceptLeadInput!){ acceptLead(input: $i){ lead { id } } }", "variables": { "i": { "id": lead } } }),
    )
    .await;
    // A mutation beyond the key's scopes is refused before it runs, and kept.
    let beyond = app
        .post(
            Some(&key),
            json!({ "query": "mutation KeyReach { logout { sessionsEnded } }" }),
        )
        .await
        .json();
    assert_eq!(
        error_code(&beyond).as_deref(),
        Some("FORBIDDEN"),
        "{beyond}"
    );
    let reached = nodes(&events(&app, &manager, json!({ "operationName": "KeyReach" })).await);
    assert_eq!(reached[0]["outcome"], "FAILED", "{reached:?}");
    assert_eq!(reached[0]["via"], "API_KEY");
    let by_key = nodes(&events(&app, &manager, json!({ "operationName": "KeyAccept" })).await);
    assert_eq!(by_key[0]["via"], "API_KEY", "{by_key:?}");
    assert!(by_key[0]["apiKeyId"].is_string());
    assert_eq!(by_key[0]["objectIds"][0], lead);
}

#[tokio::test]
async fn a_partners_org_admin_reads_only_its_organisations_entries() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let bob = app.login(BOB_TIERTWO).await;
    // The vendor acts, Northwind acts.
    app.gql(
        Some(&manager),
        "mutation VendorOnly { logout { sessionsEnded } }",
        json!({}),
    )
    .await;
    let manager = app.login(MANAGER).await;
    app.gql(Some(&alice), "mutation NorthwindNote($i: AddDealCommentInput!){ addDealComment(input: $i){ userErrors { code } } }",
        json!({ "i": { "id": "RGVhbFJlZ2lzdHJhdGlvbjo5OTk5OTk", "body": "hello" } })).await;
    let seen = nodes(&events(&app, &alice, json!({})).await);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|e| e["partner"]["name"] == "Northwind"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|e| e["operationName"] == "NorthwindNote"));
    let everything = nodes(&events(&app, &manager, json!({})).await);
    assert!(everything
        .iter()
        .any(|e| e["operationName"] == "VendorOnly"));
    // TierTwo's admin sees none of Northwind's; a member who is not an admin, and the
    // direct rep, read none at all.
    let tiertwo = nodes(&events(&app, &bob, json!({})).await);
    assert!(
        tiertwo.iter().all(|e| e["partner"]["name"] == "TierTwo"),
        "{tiertwo:?}"
    );
    let member = northwind_member(&app).await;
    let refused = app.gql(Some(&member), EVENTS, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    let rep = app.login(REP).await;
    let refused = app.gql(Some(&rep), EVENTS, json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    // Entries are nodes only to those who may read them.
    let entry = seen[0]["id"].clone();
    let hidden = app
        .gql(
            Some(&bob),
            "query($id: ID!){ node(id: $id){ id } }",
            json!({ "id": entry }),
        )
        .await;
    assert!(hidden["data"]["node"].is_null());
}

#[tokio::test]
async fn entries_cannot_be_changed_and_leave_only_past_retention() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let before = events(&app, &manager, json!({})).await["totalCount"]
        .as_i64()
        .unwrap();
    assert!(before > 0);
    let backend = app.db.get_database_backend();
    let changed = app
        .db
        .execute(Statement::from_string(
            backend,
            "UPDATE audit_events SET outcome = 'SUCCEEDED'",
        ))
        .await;
    assert!(changed.is_err(), "an audit entry was changed");
    // Kept for a day: nothing goes; kept for no time: everything before now goes.
    let kept = partnergraph::audit::prune(&app.state.db, std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(kept, 0);
    let removed = partnergraph::audit::prune(&app.state.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(removed as i64 >= before, "{removed} < {before}");
}
