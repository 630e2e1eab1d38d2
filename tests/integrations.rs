//! Partners' own systems: API keys and scopes, rate limits, signed webhooks from the outbox,
//! subscriptions over graphql-transport-ws, and bulk imports.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use partnergraph::config::{HttpConfig, RateLimits, WebhookConfig};
use partnergraph::integrations::imports::service as imports;
use partnergraph::integrations::webhooks::Dispatcher;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

const REGISTER: &str = "mutation($i: RegisterDealInput!) { registerDeal(input: $i) {
  dealRegistration { id status history { edges { node { toStatus via actor { email } } } } }
  userErrors { field code message } } }";

fn deal(customer: &str, domain: &str, product: &str, submit: bool) -> Value {
    json!({ "i": {
        "customerName": customer, "customerDomain": domain, "customerCountry": "US",
        "productIds": [product], "estimatedValue": { "amount": "50000.00", "currency": "USD" },
        "expectedCloseDate": (Utc::now().date_naive() + chrono::Duration::days(40)).to_string(),
        "submit": submit
    } })
}

#[tokio::test]
async fn an_api_key_acts_for_its_organisation_within_its_scopes_until_revoked() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let writer = app
        .api_key(ALICE_NORTHWIND, "CRM sync", &["REGISTRATIONS_WRITE"])
        .await;
    assert!(writer.starts_with("pgk_"), "{writer}");

    let registered = app
        .gql(
            Some(&writer),
            REGISTER,
            deal("Initech", "initech.example", &cloud, false),
        )
        .await;
    let payload = &registered["data"]["registerDeal"];
    assert_eq!(payload["userErrors"], json!([]), "{registered}");
    let history = &payload["dealRegistration"]["history"]["edges"][0]["node"];
    assert_eq!(history["via"], "API key CRM sync");
    assert_eq!(history["actor"]["email"], ALICE_NORTHWIND);
    // The key's organisation is Northwind: the manager sees the registration as Northwind's.
    let id = payload["dealRegistration"]["id"].clone();
    let seen = app
        .gql_as(
            MANAGER,
            "query($id: ID!){ node(id: $id) { ... on DealRegistration { partner { name } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(seen["data"]["node"]["partner"]["name"], "Northwind");

    let reader = app
        .api_key(ALICE_NORTHWIND, "Content feed", &["CONTENT_READ"])
        .await;
    let refused = app
        .post(
            Some(&reader),
            json!({ "query": REGISTER, "variables": deal("Hooli", "hooli.example", &cloud, false) }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = refused.json();
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    assert!(refused.get("data").is_none_or(Value::is_null));
    let contents = app
        .gql(
            Some(&reader),
            "{ contents(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(contents["errors"].is_null(), "{contents}");
    // Keys never manage keys, and see no object outside their scopes.
    let minted = app
        .post(
            Some(&writer),
            json!({ "query": "mutation { createApiKey(input: { name: \"x\", scopes: [CONTENT_READ] }) { secret } }" }),
        )
        .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&minted.json()).as_deref(), Some("FORBIDDEN"));
    let hidden = app
        .gql(
            Some(&reader),
            "query($id: ID!){ node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(hidden["data"]["node"].is_null(), "{hidden}");

    let listed = app
        .gql_as(
            ALICE_NORTHWIND,
            "{ apiKeys { totalCount edges { node { id name prefix scopes lastUsedAt } } } }",
            json!({}),
        )
        .await;
    let keys = &listed["data"]["apiKeys"];
    assert_eq!(keys["totalCount"], 2, "{listed}");
    assert!(
        !listed.to_string().contains(&writer),
        "a list never shows a secret"
    );
    let key_id = keys["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "CRM sync")
        .unwrap()["node"]["id"]
        .clone();
    assert!(keys["edges"].to_string().contains(&writer[..12]));
    // Another organisation's admin does not see, and cannot revoke, Northwind's keys.
    let foreign = app
        .gql_as(
            DAVE_SUMMIT,
            "mutation($i: RevokeApiKeyInput!){ revokeApiKey(input: $i){ apiKey { id } } }",
            json!({ "i": { "id": key_id } }),
        )
        .await;
    assert_eq!(error_code(&foreign).as_deref(), Some("NOT_FOUND"));
    let revoked = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation($i: RevokeApiKeyInput!){ revokeApiKey(input: $i){ apiKey { revokedAt } } }",
            json!({ "i": { "id": key_id } }),
        )
        .await;
    assert!(revoked["data"]["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    let after = app
        .post(Some(&writer), json!({ "query": "{ me { id } }" }))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_of_a_member_or_a_bad_request_are_refused_with_user_errors() {
    let app = TestApp::demo().await;
    let bad = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation { createApiKey(input: { name: \"  \", scopes: [], expiresAt: \"2000-01-01T00:00:00Z\" }) { secret userErrors { field code } } }",
            json!({}),
        )
        .await;
    let payload = &bad["data"]["createApiKey"];
    assert!(payload["secret"].is_null());
    assert_eq!(error_fields(payload), ["name", "scopes", "expiresAt"]);
    let rep = app
        .gql_as(
            REP,
            "mutation { createApiKey(input: { name: \"x\", scopes: [CONTENT_READ] }) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&rep).as_deref(), Some("FORBIDDEN"));
    assert_eq!(
        entity::api_key::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn requests_carry_rate_limit_headers_and_are_refused_with_429_past_the_limit() {
    let app = TestApp::demo_with_http(HttpConfig {
        rate_limits: RateLimits {
            per_key: 3,
            ..RateLimits::default()
        },
        ..HttpConfig::default()
    })
    .await;
    let key = app
        .api_key(ALICE_NORTHWIND, "Poller", &["REGISTRATIONS_READ"])
        .await;
    let call = || app.post(Some(&key), json!({ "query": "{ me { id } }" }));
    let first = call().await;
    assert_eq!(first.status, StatusCode::OK);
    let policy = first.headers["ratelimit-policy"].to_str().unwrap();
    assert_eq!(policy, "\"key\";q=3;w=60");
    let state = first.headers["ratelimit"].to_str().unwrap().to_owned();
    assert!(state.starts_with("\"key\";r=2;t="), "{state}");
    call().await;
    call().await;
    let refused = call().await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(error_code(&refused.json()).as_deref(), Some("RATE_LIMITED"));
    assert!(refused.headers["ratelimit"]
        .to_str()
        .unwrap()
        .contains(";r=0;"));
    let metrics = metrics_of(&app).await;
    assert!(
        metrics.contains("partnergraph_rate_limited_total 1"),
        "{metrics}"
    );
    // A signed-in user has a budget of its own.
    let session = app.login(ALICE_NORTHWIND).await;
    let own = app
        .post(Some(&session), json!({ "query": "{ me { id } }" }))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.headers["ratelimit-policy"]
        .to_str()
        .unwrap()
        .starts_with("\"user\""));
}

const CREATE_ENDPOINT: &str =
    "mutation($i: CreateWebhookEndpointInput!){ createWebhookEndpoint(input: $i){
  endpoint { id url events } signingSecret userErrors { field code message } } }";

async fn endpoint(app: &TestApp, email: &str, url: &str, events: &[&str]) -> (String, String) {
    let created = app
        .gql_as(
            email,
            CREATE_ENDPOINT,
            json!({ "i": { "url": url, "events": events } }),
        )
        .await;
    let payload = &created["data"]["createWebhookEndpoint"];
    assert_eq!(payload["userErrors"], json!([]), "{created}");
    (
        payload["endpoint"]["id"].as_str().unwrap().to_owned(),
        payload["signingSecret"].as_str().unwrap().to_owned(),
    )
}

fn quick_retries() -> WebhookConfig {
    WebhookConfig {
        allow_private: true,
        first_retry: Duration::from_millis(50),
        attempt_timeout: Duration::from_secs(5),
        ..WebhookConfig::default()
    }
}

/// Runs delivery rounds until `done` holds (or fails the test after 10 s).
async fn deliver_until(app: &TestApp, config: WebhookConfig, done: impl Fn() -> bool) {
    let dispatcher = Dispatcher::new(app.state.db.clone(), config).unwrap();
    for _ in 0..200 {
        dispatcher.run_once().await.expect("delivery round");
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries did not arrive");
}

#[tokio::test]
async fn webhooks_are_signed_retried_logged_and_kept_to_their_organisation() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let (northwind_url, northwind_got) = webhook_receiver(vec![500, 200]).await;
    let (tiertwo_url, tiertwo_got) = webhook_receiver(vec![200]).await;
    let (manager_url, manager_got) = webhook_receiver(vec![200]).await;
    let events = [
        "deal_registration.submitted",
        "deal_registration.conflict_detected",
    ];
    let (endpoint_id, secret) = endpoint(&app, ALICE_NORTHWIND, &northwind_url, &events[..1]).await;
    assert!(secret.starts_with("whsec_"));
    endpoint(&app, BOB_TIERTWO, &tiertwo_url, &events[..1]).await;
    endpoint(&app, MANAGER, &manager_url, &events).await;

    let before_submitting = Utc::now();
    let submitted = app
        .gql_as(
            ALICE_NORTHWIND,
            REGISTER,
            deal("Umbrella Corp", "umbrella.example", &cloud, true),
        )
        .await;
    let registration = submitted["data"]["registerDeal"]["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    deliver_until(&app, quick_retries(), || {
        northwind_got.lock().unwrap().len() >= 2 && !manager_got.lock().unwrap().is_empty()
    })
    .await;

    let got = northwind_got.lock().unwrap().clone();
    let (headers, body) = &got[1];
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(body.as_bytes(), headers)
        .expect("a valid Standard Webhooks signature");
    assert_eq!(
        got[0].0["webhook-id"], got[1].0["webhook-id"],
        "retries keep the id"
    );
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["type"], "deal_registration.submitted");
    assert_eq!(event["data"]["id"], registration);
    assert_eq!(event["data"]["status"], "SUBMITTED");
    assert!(
        tiertwo_got.lock().unwrap().is_empty(),
        "TierTwo hears nothing of Northwind"
    );

    let log = app
        .gql_as(
            ALICE_NORTHWIND,
            "query($e: ID!){ webhookDeliveries(endpointId: $e) { edges { node { status attemptCount
              event { type } attempts { responseStatus succeeded durationMs } } } } }",
            json!({ "e": endpoint_id }),
        )
        .await;
    let delivery = &log["data"]["webhookDeliveries"]["edges"][0]["node"];
    assert_eq!(delivery["status"], "SUCCEEDED", "{log}");
    assert_eq!(delivery["attemptCount"], 2);
    let statuses: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["responseStatus"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 200]);
    // Someone else's endpoint is out of sight.
    let foreign = app
        .gql_as(
            DAVE_SUMMIT,
            "query($e: ID!){ webhookDeliveries(endpointId: $e) { totalCount } }",
            json!({ "e": endpoint_id }),
        )
        .await;
    assert_eq!(error_code(&foreign).as_deref(), Some("NOT_FOUND"));

    // A replay sends the event again, with the same webhook-id.
    let since = before_submitting.to_rfc3339();
    let replayed = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation($i: ReplayWebhooksInput!){ replayWebhooks(input: $i){ queued userErrors { field } } }",
            json!({ "i": { "endpointId": endpoint_id, "since": since } }),
        )
        .await;
    assert_eq!(
        replayed["data"]["replayWebhooks"]["queued"], 1,
        "{replayed}"
    );
    deliver_until(&app, quick_retries(), || {
        northwind_got.lock().unwrap().len() >= 3
    })
    .await;
    let got = northwind_got.lock().unwrap().clone();
    assert_eq!(got[2].0["webhook-id"], got[1].0["webhook-id"]);
}

#[tokio::test]
async fn endpoints_are_validated_and_private_targets_refused_unless_allowed() {
    let app = TestApp::demo().await;
    let created = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_ENDPOINT,
            json!({ "i": { "url": "ftp://example.com/x", "events": ["deal_registration.won", "nope"] } }),
        )
        .await;
    let payload = &created["data"]["createWebhookEndpoint"];
    assert_eq!(error_fields(payload), ["url", "events.1"]);
    let internal = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_ENDPOINT,
            json!({ "i": { "url": "https://hooks.example.com/x", "events": ["deal_registration.conflict_detected"] } }),
        )
        .await;
    assert_eq!(
        error_fields(&internal["data"]["createWebhookEndpoint"]),
        ["events"]
    );
    assert_eq!(
        entity::webhook_endpoint::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    let strict = TestApp::demo().await;
    let mut config = strict.state.http.webhooks.clone();
    config.allow_private = false;
    let refused = partnergraph::integrations::webhooks::ssrf::refuse_url(
        "http://127.0.0.1:9/hook",
        config.allow_private,
    );
    assert!(refused.is_some());
}

#[tokio::test]
async fn a_change_that_rolls_back_writes_no_event() {
    let app = TestApp::demo().await;
    let events = || entity::event::Entity::find().count(&app.db);
    let before = events().await.unwrap();
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let mut bad = deal("Vandelay", "vandelay.example", &cloud, true);
    bad["i"]["productIds"] = json!(["UHJvZHVjdDo5OTk5OQ"]);
    let refused = app.gql_as(ALICE_NORTHWIND, REGISTER, bad).await;
    assert!(!refused["data"]["registerDeal"]["userErrors"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(events().await.unwrap(), before);
    let accepted = app
        .gql_as(
            ALICE_NORTHWIND,
            REGISTER,
            deal("Vandelay", "vandelay.example", &cloud, true),
        )
        .await;
    assert_eq!(accepted["data"]["registerDeal"]["userErrors"], json!([]));
    assert_eq!(events().await.unwrap(), before + 1);
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `addr`'s `/graphql` speaking graphql-transport-ws, not yet initialised.
async fn connect(addr: std::net::SocketAddr) -> Socket {
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

/// A graphql-transport-ws client signed in with `bearer`, subscribed to `query`.
pub async fn subscriber(addr: std::net::SocketAddr, bearer: &str, query: &str) -> Socket {
    let mut socket = connect(addr).await;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {bearer}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let ack = next_json(&mut socket).await.expect("connection_ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    socket
}

/// The next JSON message within 10 s (pings skipped); `None` when the socket closed.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")?;
        match message.ok()? {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// `/metrics` as text.
async fn metrics_of(app: &TestApp) -> String {
    let request = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(request).await.text()
}

/// Submits a registration of `customer` for Northwind; its global ID.
async fn submit_for_northwind(app: &TestApp, customer: &str, product: &str) -> Value {
    let domain = format!("{}.example", customer.to_lowercase().replace(' ', "-"));
    let submitted = app
        .gql_as(
            ALICE_NORTHWIND,
            REGISTER,
            deal(customer, &domain, product, true),
        )
        .await;
    submitted["data"]["registerDeal"]["dealRegistration"]["id"].clone()
}

pub const CHANGES: &str =
    "subscription { dealRegistrationChanged { type registration { id status partner { name } } } }";

#[tokio::test]
async fn subscribers_hear_the_changes_they_may_see_on_graphql_ws() {
    let app = TestApp::demo().await;
    let addr = app.serve().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let manager = app.login(MANAGER).await;
    let mut watching = subscriber(addr, &manager, CHANGES).await;
    let bob = app.login(BOB_TIERTWO).await;
    let mut outsider = subscriber(addr, &bob, CHANGES).await;
    // Give the subscriptions a moment to be registered before the change commits.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let id = submit_for_northwind(&app, "Stark Industries", &cloud).await;
    let heard = next_json(&mut watching).await.expect("a change");
    assert_eq!(heard["type"], "next", "{heard}");
    let change = &heard["payload"]["data"]["dealRegistrationChanged"];
    assert_eq!(change["type"], "deal_registration.submitted");
    assert_eq!(change["registration"]["id"], id);
    assert_eq!(change["registration"]["status"], "SUBMITTED");
    assert_eq!(change["registration"]["partner"]["name"], "Northwind");

    // TierTwo hears nothing of Northwind's registration.
    let nothing = tokio::time::timeout(Duration::from_millis(700), outsider.next()).await;
    assert!(nothing.is_err(), "TierTwo heard {nothing:?}");
    let metrics = metrics_of(&app).await;
    assert!(
        metrics.contains("partnergraph_subscriptions_open 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_change_on_one_replica_reaches_subscribers_on_another() {
    let app = TestApp::demo().await;
    let other = serve_router(app.replica(test_auth_config()).await).await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let manager = app.login(MANAGER).await;
    let mut watching = subscriber(other, &manager, CHANGES).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = submit_for_northwind(&app, "Wayne Enterprises", &cloud).await;
    let heard = next_json(&mut watching).await.expect("a change");
    assert_eq!(
        heard["payload"]["data"]["dealRegistrationChanged"]["registration"]["id"],
        id
    );
}

#[tokio::test]
async fn two_replicas_share_deliveries_and_send_each_event_once() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let (url, got) = webhook_receiver(vec![200]).await;
    endpoint(&app, MANAGER, &url, &["deal_registration.submitted"]).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    for i in 0..12 {
        let input = deal(
            &format!("Shared {i}"),
            &format!("shared-{i}.example"),
            &cloud,
            true,
        );
        app.gql(Some(&alice), REGISTER, input).await;
    }
    let other = app.replica_state(test_auth_config()).await;
    let ours = Dispatcher::new(app.state.db.clone(), quick_retries()).unwrap();
    let theirs = Dispatcher::new(other.db.clone(), quick_retries()).unwrap();
    let (a, b) = tokio::join!(ours.run_once(), theirs.run_once());
    a.unwrap();
    b.unwrap();
    let got = got.lock().unwrap().clone();
    let mut ids: Vec<String> = got
        .iter()
        .map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (12, 12), "each event once");
}

#[tokio::test]
async fn idle_sockets_close_and_a_socket_holds_a_bounded_number_of_subscriptions() {
    let app = TestApp::demo().await;
    let addr = app.serve().await;
    let mut idle = connect(addr).await;
    let closed = tokio::time::timeout(Duration::from_secs(15), idle.next())
        .await
        .expect("closed within 15 s");
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4408),
        other => panic!("expected a 4408 close, got {other:?}"),
    }

    let manager = app.login(MANAGER).await;
    let mut busy = subscriber(addr, &manager, CHANGES).await;
    for id in 2..=101 {
        let subscribe =
            json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": CHANGES } });
        busy.send(Message::Text(subscribe.to_string().into()))
            .await
            .unwrap();
    }
    let refused = next_json(&mut busy).await.expect("a refusal");
    assert_eq!(refused["id"], "101", "{refused}");
    assert!(refused.to_string().contains("at most 100 subscriptions"));
}

#[tokio::test]
async fn sockets_need_credentials_and_close_when_the_key_is_revoked() {
    let app = TestApp::demo().await;
    let addr = app.serve().await;
    let mut anonymous = connect(addr).await;
    let init = json!({ "type": "connection_init", "payload": {} });
    anonymous
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    assert!(
        next_json(&mut anonymous).await.is_none(),
        "closed without credentials"
    );

    let key = app
        .api_key(ALICE_NORTHWIND, "Live feed", &["REGISTRATIONS_READ"])
        .await;
    let mut content = subscriber(addr, &key, "subscription { contentChanged { type } }").await;
    let refused = next_json(&mut content).await.expect("an error");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert!(refused.to_string().contains("CONTENT_READ"));
    let mut live = subscriber(addr, &key, CHANGES).await;
    let listed = app
        .gql_as(
            ALICE_NORTHWIND,
            "{ apiKeys { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let key_id = listed["data"]["apiKeys"]["edges"][0]["node"]["id"].clone();
    app.gql_as(
        ALICE_NORTHWIND,
        "mutation($i: RevokeApiKeyInput!){ revokeApiKey(input: $i){ apiKey { id } } }",
        json!({ "i": { "id": key_id } }),
    )
    .await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match live.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket closes after the key is revoked");
    assert_eq!(closed, Some(4401));
}

const IMPORT: &str =
    "mutation($i: ImportDealRegistrationsInput!){ importDealRegistrations(input: $i){
  importJob { id status total } userErrors { field code message } } }";
const JOB: &str = "query($id: ID!){ importJob(id: $id) { status total processed created updated unchanged failed
  rows(outcome: FAILED, first: 10) { edges { node { index externalId outcome errors { field code } } } } } }";

fn import_rows(count: usize, product: &str, bad: &[usize]) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let mut row = json!({
                "externalId": format!("crm-{i}"),
                "customerName": format!("Imported Customer {i}"),
                "customerDomain": format!("imported-{i}.example"),
                "customerCountry": "US",
                "productIds": [product],
                "estimatedValue": { "amount": "1000.00", "currency": "USD" },
                "expectedCloseDate": (Utc::now().date_naive() + chrono::Duration::days(30)).to_string(),
            });
            if bad.contains(&i) {
                row["customerName"] = json!("  ");
            }
            row
        })
        .collect()
}

async fn finish_import(app: &TestApp, key: &str, rows: Vec<Value>) -> Value {
    let accepted = app
        .gql(Some(key), IMPORT, json!({ "i": { "rows": rows } }))
        .await;
    let job = &accepted["data"]["importDealRegistrations"]["importJob"];
    assert_eq!(job["status"], "QUEUED", "{accepted}");
    let id = job["id"].clone();
    imports::run_once(&app.state.db).await.expect("import runs");
    app.gql(Some(key), JOB, json!({ "id": id })).await["data"]["importJob"].clone()
}

#[tokio::test]
async fn imports_upsert_by_external_id_and_report_each_row() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let key = app
        .api_key(ALICE_NORTHWIND, "CRM import", &["REGISTRATIONS_WRITE"])
        .await;
    let bad = [3, 40, 77];
    let job = finish_import(&app, &key, import_rows(120, &cloud, &bad)).await;
    assert_eq!(job["status"], "COMPLETED", "{job}");
    assert_eq!(
        [
            &job["total"],
            &job["processed"],
            &job["created"],
            &job["failed"]
        ],
        [120, 120, 117, 3]
    );
    let failed: Vec<(i64, String)> = job["rows"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["index"].as_i64().unwrap(),
                e["node"]["errors"][0]["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        bad.iter()
            .map(|&i| (i as i64, "customerName".to_owned()))
            .collect::<Vec<_>>()
    );

    let again = finish_import(&app, &key, import_rows(120, &cloud, &bad)).await;
    assert_eq!(
        [&again["unchanged"], &again["created"], &again["failed"]],
        [117, 0, 3]
    );

    let mut changed = import_rows(120, &cloud, &bad);
    changed[5]["customerName"] = json!("Renamed Customer 5");
    let third = finish_import(&app, &key, changed).await;
    assert_eq!([&third["updated"], &third["unchanged"]], [1, 116]);

    let too_many = app
        .gql(
            Some(&key),
            IMPORT,
            json!({ "i": { "rows": import_rows(1001, &cloud, &[]) } }),
        )
        .await;
    assert_eq!(
        error_fields(&too_many["data"]["importDealRegistrations"]),
        ["rows"]
    );
}
