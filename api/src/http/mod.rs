//! HTTP: the GraphQL endpoint, the offline GraphiQL IDE, health probes and metrics, behind the
//! front door's layers (request ids and logs, CORS, compression, a time budget per request).

pub mod admission;
pub mod client;
pub mod documents;
mod graphiql;
mod graphql;
mod negotiate;
pub mod nulls;
pub mod observe;
mod order;
mod params;
pub mod persisted;
pub mod ratelimit;
pub mod scan;
pub mod types;
pub mod validated;
mod websocket;

use std::time::Duration;

use async_graphql::ServerError;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::UNAVAILABLE_RETRY_AFTER;
use crate::state::AppState;

/// Responses smaller than this go uncompressed: the headers would outweigh the saving.
const COMPRESS_ABOVE_BYTES: u16 = 1024;

pub fn router(state: AppState) -> Router {
    let cors = cors(&state.http.cors_origins);
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_graphql).post(graphql::post_graphql),
        )
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/favicon.ico", get(graphiql::favicon))
        .route("/files/{token}", get(crate::content::download))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.limits.request_timeout,
            time_budget,
        ))
        .layer(CatchPanicLayer::new())
        .layer(compression())
        .layer(tower::util::option_layer(cors))
        .layer(middleware::map_response(preflight_no_content))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// gzip or brotli, as the client accepts, for text over 1 KB, at each codec's fastest level:
/// most of the saving on JSON for a fraction of the CPU. At level 4, a partner's portal home
/// (9 KB of JSON) ran 5-13% fewer requests/s than uncompressed; brotli's default (11) took
/// seconds for GraphiQL's bundle.
fn compression() -> CompressionLayer<impl Predicate> {
    let when = SizeAbove::new(COMPRESS_ABOVE_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(when)
}

/// CORS for the configured origins only (exact matches); none configured, no CORS at all.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let header = HeaderName::from_static;
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                ACCEPT,
                IF_NONE_MATCH,
                observe::REQUEST_ID,
                header("apollographql-client-name"),
                header("apollographql-client-version"),
                header("apollo-require-preflight"),
                header("x-apollo-operation-name"),
            ])
            .expose_headers([
                observe::REQUEST_ID,
                RETRY_AFTER,
                ETAG,
                header("ratelimit"),
                header("ratelimit-policy"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// A CORS preflight has no content: 204, as browsers and most servers answer it.
async fn preflight_no_content(mut response: Response) -> Response {
    let is_preflight = response
        .headers()
        .contains_key("access-control-allow-methods");
    if is_preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

/// Every request runs under `--request-timeout`: past it the request's future is dropped
/// (its work cancelled, its worker freed) and the client told to retry.
async fn time_budget(State(budget): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(budget, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(budget_ms = budget.as_millis() as u64, "request timed out");
            let body = json!({ "errors": [{
                "message": format!("the request took longer than {} s and was cancelled", budget.as_secs_f64()),
                "extensions": { "code": "REQUEST_TIMEOUT" },
            }] });
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            retry_later(&mut response);
            response
        }
    }
}

/// Tells a client answered 503 when to try again.
pub fn retry_later(response: &mut Response) {
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
}

/// A GraphQL error with `extensions.code` (and the input `field` at fault, if any).
pub fn coded_error(message: String, code: &'static str, field: Option<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    if let (Some(field), Some(extensions)) = (field, error.extensions.as_mut()) {
        extensions.set("field", field);
    }
    error
}

pub fn set_code(error: &mut ServerError, code: &'static str) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

/// Liveness: the process answers.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: a statement runs on the connections requests use (the server's own and the
/// pool behind transactions).
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ready().await {
        Ok(()) => Json(json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response();
            retry_later(&mut response);
            response
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errors": [{ "message": "no such route; the API is at /graphql", "extensions": { "code": "NOT_FOUND" } }] })),
    )
        .into_response()
}
