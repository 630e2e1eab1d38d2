//! What operators see: a request id on every request and response, one log line per
//! request, and the Prometheus metrics of this replica.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use rand::RngCore;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a handler learned about a request, for its log line and metrics (put in the
/// response's extensions).
#[derive(Clone, Debug, Default)]
pub struct RequestFacts {
    /// `query`, `mutation`, `subscription`, `batch`, or empty when nothing was parsed.
    pub operation_type: &'static str,
    pub operation_name: Option<String>,
    /// `ok`, `partial` (data and errors), `error` (no data).
    pub outcome: &'static str,
    /// The caller: `user:<id>`, `key:<id>`, or `anonymous`.
    pub caller: String,
    /// The caller's tightest rate-limit budget after this request.
    pub rate: Option<super::ratelimit::Verdict>,
}

/// This replica's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    in_flight: IntGauge,
    pub throttled_logins: IntCounter,
    /// Requests refused by the rate limiter.
    pub rate_limited: IntCounter,
    /// Webhook attempts by outcome (`succeeded`, `failed`).
    pub webhook_attempts: IntCounterVec,
    /// Subscriptions open on this replica's sockets.
    pub subscriptions_open: IntGauge,
    connections_in_use: IntGauge,
    connection_waits: IntCounter,
    statements: IntCounter,
    background: IntCounter,
    /// One render at a time: the counters above catch up with their sources in `render`.
    rendering: std::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new().expect("metric definitions are valid")
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("partnergraph".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, operation type and outcome.",
            ),
            &["route", "operation_type", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer a request.")
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ]),
            &["route"],
        )?;
        let in_flight = IntGauge::new("http_requests_in_flight", "Requests being answered now.")?;
        let throttled_logins = IntCounter::new(
            "login_throttled_total",
            "Logins refused by the login throttle.",
        )?;
        let rate_limited = IntCounter::new(
            "rate_limited_total",
            "Requests refused with 429 by the rate limiter.",
        )?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts by outcome (succeeded, failed).",
            ),
            &["outcome"],
        )?;
        let subscriptions_open = IntGauge::new(
            "subscriptions_open",
            "GraphQL subscriptions open on this replica's sockets.",
        )?;
        let connections_in_use = IntGauge::new(
            "db_connections_in_use",
            "Database connections lent out now (pool and the server's own).",
        )?;
        let connection_waits = IntCounter::new(
            "db_connection_waits_total",
            "Times a statement waited for a free database connection.",
        )?;
        let statements = IntCounter::new(
            "sql_statements_total",
            "SQL statements run by this replica's requests and jobs.",
        )?;
        let background = IntCounter::new(
            "sql_background_total",
            "SQL statements this replica runs on its own clock (feed polls, looks for work, \
             the rate-limit sync), apart from requests' and jobs'.",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(throttled_logins.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        registry.register(Box::new(subscriptions_open.clone()))?;
        registry.register(Box::new(connections_in_use.clone()))?;
        registry.register(Box::new(connection_waits.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(background.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            in_flight,
            throttled_logins,
            rate_limited,
            webhook_attempts,
            subscriptions_open,
            connections_in_use,
            connection_waits,
            statements,
            background,
            rendering: std::sync::Mutex::new(()),
        })
    }

    /// The text exposition, with the database's gauges read now.
    pub fn render(&self, state: &AppState) -> String {
        let _one = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = state.db.connection_stats();
        self.connections_in_use.set(stats.in_use as i64);
        catch_up(&self.connection_waits, stats.waits);
        catch_up(&self.statements, state.statements.get());
        catch_up(&self.background, state.db.background_statements().get());
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "metrics did not encode");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Counts `counter` up to `total`, a count kept elsewhere that only grows.
fn catch_up(counter: &IntCounter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}

/// The route a path belongs to: a label of few values, never the path itself.
fn route(path: &str) -> &'static str {
    match path {
        "/graphql" => "graphql",
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        _ if path.starts_with("/graphiql/") => "graphiql",
        _ if path.starts_with("/files/") => "files",
        _ => "other",
    }
}

/// A client's id is kept if it is short and plain; anything else is replaced, so it can be
/// logged and echoed safely.
fn request_id(request: &Request) -> HeaderValue {
    let given = request.headers().get(&REQUEST_ID).filter(|value| {
        let bytes = value.as_bytes();
        (1..=128).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    });
    match given {
        Some(value) => value.clone(),
        None => {
            let mut bytes = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut bytes);
            HeaderValue::from_str(&crate::auth::tokens::hex(&bytes)).expect("hex is a header value")
        }
    }
}

/// Gives the request an id, answers it, then logs one line and counts it.
/// Its state is the metrics alone: middleware state is cloned per request, and the whole
/// `AppState` (a dozen reference counts) showed at 2% of a small request's CPU.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let method = request.method().clone();
    let route = route(request.uri().path());
    metrics.in_flight.inc();
    let mut response = next.run(request).await;
    metrics.in_flight.dec();
    let elapsed = started.elapsed();
    response.headers_mut().insert(REQUEST_ID, id.clone());
    let facts = response
        .extensions()
        .get::<RequestFacts>()
        .cloned()
        .unwrap_or_default();
    let status = response.status().as_u16();
    let outcome = match facts.outcome {
        "" if status < 400 => "ok",
        "" => "error",
        outcome => outcome,
    };
    metrics
        .requests
        .with_label_values(&[route, facts.operation_type, outcome])
        .inc();
    metrics
        .latency
        .with_label_values(&[route])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "partnergraph::request",
        request_id = id.to_str().unwrap_or(""),
        method = %method,
        route,
        operation = facts.operation_name.as_deref().unwrap_or(""),
        operation_type = facts.operation_type,
        status,
        outcome,
        duration_us = elapsed.as_micros() as u64,
        caller = if facts.caller.is_empty() { "anonymous" } else { facts.caller.as_str() },
        "request"
    );
    response
}

/// `/metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state),
    )
        .into_response()
}
