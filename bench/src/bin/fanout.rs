//! The integrations benchmark, against a running `serve --demo --webhook-allow-private`:
//!
//! 1. Webhook fan-out: ten endpoints (local receivers) subscribe to `content.published`;
//!    the channel manager publishes `--events` content items; every delivery's latency is its
//!    receipt time less the event's own `timestamp` (written in the transaction, just before
//!    its commit). Content, not registrations, makes the events: one partner submitting
//!    thousands of registrations measures the registration path (it slows as that partner's
//!    registrations grow), not the fan-out.
//! 2. Subscriptions: `--subscribers` graphql-ws connections subscribe to
//!    `dealRegistrationChanged`; `--live-events` registrations are submitted, a few at a
//!    time; every message's latency is its receipt time less the event's `occurredAt`.
//!
//! Prints one JSON line per phase: counts, how long the whole fan-out took, and the p50,
//! p99 and maximum latency in milliseconds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use chrono::{DateTime, Utc};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    /// The server, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    base: String,
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    #[arg(long, default_value_t = 10)]
    endpoints: usize,
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    #[arg(long, default_value_t = 200)]
    live_events: usize,
    /// Registrations submitted at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// How long to wait for the last delivery, seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// Latencies in milliseconds, measured at receipt.
type Latencies = Arc<Mutex<Vec<f64>>>;

fn since(timestamp: &str) -> Option<f64> {
    let at = DateTime::parse_from_rfc3339(timestamp).ok()?;
    Some((Utc::now() - at.with_timezone(&Utc)).num_microseconds()? as f64 / 1000.0)
}

async fn graphql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("server answers")
        .json()
        .await
        .expect("JSON")
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let answer = graphql(
        client,
        base,
        None,
        "mutation($i: LoginInput!){ login(input: $i){ accessToken } }",
        json!({ "i": { "email": email, "password": "partnergraph-demo" } }),
    )
    .await;
    answer["data"]["login"]["accessToken"]
        .as_str()
        .expect("login")
        .to_owned()
}

/// A receiver recording each delivery's latency; its URL.
async fn receiver(latencies: Latencies) -> String {
    let app = axum::Router::new().route(
        "/hook",
        post(move |_headers: HeaderMap, body: String| {
            let latencies = latencies.clone();
            async move {
                let event: Value = serde_json::from_str(&body).unwrap_or_default();
                if let Some(ms) = event["timestamp"].as_str().and_then(since) {
                    latencies.lock().unwrap().push(ms);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

/// Publishes `count` content items as `token` (a channel manager), `concurrency` at a time.
async fn publish(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    count: usize,
    concurrency: usize,
) {
    let create =
        "mutation($i: CreateContentInput!){ createContent(input: $i){ userErrors { message } } }";
    futures_util::stream::iter(0..count)
        .for_each_concurrent(concurrency, |i| {
            let input = json!({ "i": { "title": format!("Fan-out item {i}"), "kind": "OTHER",
                                       "body": "Published by the fan-out benchmark." } });
            async move {
                let answer = graphql(client, base, Some(token), create, input).await;
                let errors = &answer["data"]["createContent"]["userErrors"];
                assert!(
                    errors.as_array().is_some_and(Vec::is_empty),
                    "content refused: {answer}"
                );
            }
        })
        .await;
}

/// Submits `count` registrations as `token`, `concurrency` at a time.
async fn submit(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    product: &str,
    count: usize,
    concurrency: usize,
    tag: &str,
) {
    let register =
        "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ userErrors { message } } }";
    let close = (Utc::now().date_naive() + chrono::Duration::days(60)).to_string();
    futures_util::stream::iter(0..count)
        .for_each_concurrent(concurrency, |i| {
            let input = json!({ "i": {
                "customerName": format!("Fanout {tag} {i}"), "customerDomain": format!("fanout-{tag}-{i}.example"),
                "customerCountry": "US", "productIds": [product],
                "estimatedValue": { "amount": "1000.00", "currency": "USD" },
                "expectedCloseDate": close, "submit": true } });
            async move {
                let answer = graphql(client, base, Some(token), register, input).await;
                let errors = &answer["data"]["registerDeal"]["userErrors"];
                assert!(errors.as_array().is_some_and(Vec::is_empty), "registration refused: {answer}");
            }
        })
        .await;
}

fn report(phase: &str, extra: Value, latencies: &[f64], elapsed: Duration) {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let mut line = json!({
        "phase": phase,
        "received": sorted.len(),
        "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "p50_ms": (at(0.50) * 10.0).round() / 10.0,
        "p99_ms": (at(0.99) * 10.0).round() / 10.0,
        "max_ms": (sorted.last().copied().unwrap_or(0.0) * 10.0).round() / 10.0,
    });
    if let (Value::Object(line), Value::Object(extra)) = (&mut line, extra) {
        line.extend(extra);
    }
    println!("{line}");
}

async fn wait_for(latencies: &Latencies, expected: usize, timeout: Duration) {
    let start = Instant::now();
    while latencies.lock().unwrap().len() < expected && start.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn webhooks(args: &Args, client: &reqwest::Client, manager: &str) {
    let latencies: Latencies = Arc::default();
    for _ in 0..args.endpoints {
        let url = receiver(latencies.clone()).await;
        let created = graphql(
            client,
            &args.base,
            Some(manager),
            "mutation($i: CreateWebhookEndpointInput!){ createWebhookEndpoint(input: $i){ userErrors { message } } }",
            json!({ "i": { "url": url, "events": ["content.published"] } }),
        )
        .await;
        assert_eq!(
            created["data"]["createWebhookEndpoint"]["userErrors"],
            json!([]),
            "{created}"
        );
    }
    let start = Instant::now();
    publish(client, &args.base, manager, args.events, args.concurrency).await;
    let submitted = start.elapsed();
    let expected = args.events * args.endpoints;
    wait_for(&latencies, expected, Duration::from_secs(args.timeout)).await;
    let latencies = latencies.lock().unwrap().clone();
    report(
        "webhooks",
        json!({ "events": args.events, "endpoints": args.endpoints, "expected": expected,
                "submit_seconds": (submitted.as_secs_f64() * 10.0).round() / 10.0 }),
        &latencies,
        start.elapsed(),
    );
    // Later phases' events are not theirs to wait for.
    let disable = "mutation($i: WebhookEndpointInput!){ disableWebhookEndpoint(input: $i){ endpoint { id } } }";
    let listed = graphql(
        client,
        &args.base,
        Some(manager),
        "{ webhookEndpoints(first: 100) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    for edge in listed["data"]["webhookEndpoints"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
    {
        graphql(
            client,
            &args.base,
            Some(manager),
            disable,
            json!({ "i": { "id": edge["node"]["id"] } }),
        )
        .await;
    }
}

/// Opens a graphql-ws subscription to `dealRegistrationChanged`, recording latencies.
async fn subscribe(
    base: &str,
    token: &str,
    latencies: Latencies,
    ready: Arc<tokio::sync::Barrier>,
) {
    let url = format!("{}/graphql", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let _ack = socket.next().await;
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription { dealRegistrationChanged { type occurredAt registration { id status } } }" } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    ready.wait().await;
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(ms) = value["payload"]["data"]["dealRegistrationChanged"]["occurredAt"]
            .as_str()
            .and_then(since)
        {
            latencies.lock().unwrap().push(ms);
        }
    }
}

async fn subscriptions(
    args: &Args,
    client: &reqwest::Client,
    manager: &str,
    partner: &str,
    product: &str,
) {
    let latencies: Latencies = Arc::default();
    let ready = Arc::new(tokio::sync::Barrier::new(args.subscribers + 1));
    let opened = Instant::now();
    for _ in 0..args.subscribers {
        tokio::spawn(subscribe(
            args.base.clone().leak(),
            manager.to_owned().leak(),
            latencies.clone(),
            ready.clone(),
        ));
    }
    ready.wait().await;
    let open_seconds = opened.elapsed().as_secs_f64();
    // The subscriptions are registered by the time the server acknowledged them; a moment
    // more lets the last ones reach the event bus.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start = Instant::now();
    submit(
        client,
        &args.base,
        partner,
        product,
        args.live_events,
        4,
        "live",
    )
    .await;
    let expected = args.live_events * args.subscribers;
    wait_for(&latencies, expected, Duration::from_secs(args.timeout)).await;
    let latencies = latencies.lock().unwrap().clone();
    report(
        "subscriptions",
        json!({ "subscribers": args.subscribers, "events": args.live_events, "expected": expected,
                "open_seconds": (open_seconds * 10.0).round() / 10.0 }),
        &latencies,
        start.elapsed(),
    );
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let client = reqwest::Client::new();
    let manager = login(&client, &args.base, "manager@vendor.example").await;
    let partner = login(&client, &args.base, "alice@northwind.example").await;
    let products = graphql(
        &client,
        &args.base,
        Some(&partner),
        "{ products { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let product = products["data"]["products"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("a product")
        .to_owned();
    webhooks(&args, &client, &manager).await;
    subscriptions(&args, &client, &manager, &partner, &product).await;
}
