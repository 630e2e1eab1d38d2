//! Our own GraphQL-over-HTTP handler around `schema.execute`: it negotiates the response
//! type, answers malformed requests with 400, refuses mutations over GET with 405, caps
//! batches, and authenticates the bearer token once per request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{BatchResponse, Variables};
use axum::body::{to_bytes, Bytes};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use tracing::Instrument;

use super::documents::DocumentCache;
use super::graphiql;
use super::negotiate::{is_json_body, preferred_media, MediaType};
use super::order::in_selection_order;
use crate::auth::{ClientAddr, Viewer};
use crate::error::AppError;
use crate::loaders;
use crate::state::AppState;

/// A request the HTTP layer refuses before GraphQL runs.
struct HttpError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl HttpError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        HttpError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    fn into_response(self, media: MediaType) -> Response {
        let body =
            json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] });
        let mut response = json_response(self.status, media, &body);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn json_response(status: StatusCode, media: MediaType, body: &Value) -> Response {
    serialized_response(status, media, serde_json::to_vec(body))
}

/// A response from a body serialised straight to bytes: a GraphQL result is not built
/// again as a JSON tree first (that copy showed in profiles of large pages).
fn serialized_response(
    status: StatusCode,
    media: MediaType,
    body: serde_json::Result<Vec<u8>>,
) -> Response {
    let body = body.unwrap_or_else(|err| {
        tracing::error!(error = %err, "response did not serialise");
        b"{}".to_vec()
    });
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One GraphQL request's parameters, checked for type as the spec requires.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

fn optional_map(
    object: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, HttpError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(_) => Err(HttpError::bad_request(format!("`{key}` must be an object"))),
    }
}

fn params_from_json(value: &Value) -> Result<Params, HttpError> {
    let Value::Object(object) = value else {
        return Err(HttpError::bad_request(
            "a GraphQL request must be a JSON object",
        ));
    };
    let query = match object.get("query") {
        Some(Value::String(query)) => query.clone(),
        Some(_) => return Err(HttpError::bad_request("`query` must be a string")),
        None => return Err(HttpError::bad_request("`query` is required")),
    };
    let operation_name = match object.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(HttpError::bad_request("`operationName` must be a string")),
    };
    let variables = optional_map(object, "variables")?;
    optional_map(object, "extensions")?;
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_query_string(params: &HashMap<String, String>) -> Result<Params, HttpError> {
    let query = params
        .get("query")
        .cloned()
        .ok_or_else(|| HttpError::bad_request("`query` is required"))?;
    let json_map = |key: &str| -> Result<Option<Map<String, Value>>, HttpError> {
        match params.get(key) {
            None => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                Ok(Value::Null) => Ok(None),
                _ => Err(HttpError::bad_request(format!(
                    "`{key}` must be a JSON object"
                ))),
            },
        }
    };
    let variables = json_map("variables")?;
    json_map("extensions")?;
    Ok(Params {
        query,
        operation_name: params
            .get("operationName")
            .cloned()
            .filter(|s| !s.is_empty()),
        variables,
    })
}

/// The type of the operation a GET would run, if the document parses.
fn operation_type(documents: &DocumentCache, params: &Params) -> Option<OperationType> {
    let document = documents.parse(&params.query)?;
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &params.operation_name {
            Some(name) => ops.get(name.as_str()).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, HttpError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let unauthenticated =
        |message: &str| HttpError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let text = value
        .to_str()
        .map_err(|_| unauthenticated("malformed Authorization header"))?;
    let token = match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(unauthenticated("use `Authorization: Bearer <accessToken>`")),
    };
    match state.auth.authenticate(&state.db, token).await {
        Ok(actor) => Ok(Viewer::User(Arc::new(actor))),
        Err(AppError::Unauthenticated(message)) => Err(unauthenticated(&message)),
        Err(other) => Err(HttpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            other.code(),
            other.to_string(),
        )),
    }
}

fn client_addr(request: &Request) -> ClientAddr {
    ClientAddr(
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip()),
    )
}

fn to_graphql_request(params: Params) -> async_graphql::Request {
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    request
}

/// Executes one request with the caller's identity and fresh loaders, its fields in
/// selection order.
async fn run(
    state: &AppState,
    mut request: async_graphql::Request,
    viewer: &Viewer,
    addr: ClientAddr,
) -> async_graphql::Response {
    let operation = request.operation_name.clone();
    // Execution takes a copy of the document, the field-order pass reads the cached one.
    // (A query that does not parse fails in execution, with nothing to order.)
    let document = state.documents.parse(&request.query);
    if let Some(document) = &document {
        request.set_parsed_query(ExecutableDocument::clone(document));
    }
    let caller = match viewer {
        Viewer::User(actor) => Some(actor.clone()),
        Viewer::Anonymous => None,
    };
    let request = loaders::attach(request, &state.db, state.limits.batch_window, caller)
        .data(viewer.clone())
        .data(addr);
    let mut response = state
        .schema
        .execute(request)
        .instrument(crate::telemetry::operation_span(operation.as_deref()))
        .await;
    if let Some(document) = &document {
        in_selection_order(document, operation.as_deref(), &mut response.data);
    }
    response
}

/// Runs a single request or a batch and answers in kind.
async fn run_all(
    state: &AppState,
    requests: Vec<async_graphql::Request>,
    is_batch: bool,
    viewer: Viewer,
    addr: ClientAddr,
    media: MediaType,
) -> Response {
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        responses.push(run(state, request, &viewer, addr).await);
    }
    if is_batch {
        let body = serde_json::to_vec(&BatchResponse::Batch(responses));
        return serialized_response(StatusCode::OK, media, body);
    }
    single_response(responses.pop().expect("one request, one response"), media)
}

/// Parse, validation and variable errors: nothing executed, so there is no `data`.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn single_response(response: async_graphql::Response, media: MediaType) -> Response {
    if media == MediaType::GraphqlResponse && is_request_error(&response) {
        // This media type's request errors have no `data` entry at all.
        let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut body {
            map.remove("data");
        }
        return json_response(StatusCode::BAD_REQUEST, media, &body);
    }
    serialized_response(StatusCode::OK, media, serde_json::to_vec(&response))
}

async fn execute(
    state: &AppState,
    batch: Vec<Params>,
    is_batch: bool,
    viewer: Viewer,
    addr: ClientAddr,
    media: MediaType,
) -> Response {
    let requests = batch.into_iter().map(to_graphql_request).collect();
    run_all(state, requests, is_batch, viewer, addr, media).await
}

fn not_acceptable() -> Response {
    HttpError::new(
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "responses are application/graphql-response+json or application/json",
    )
    .into_response(MediaType::Json)
}

pub async fn get_graphql(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let Some(media) = preferred_media(&headers) else {
        return not_acceptable();
    };
    let query = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    if media == MediaType::Html && !query.contains_key("query") {
        return graphiql::page();
    }
    let params = match params_from_query_string(&query) {
        Ok(params) => params,
        Err(err) => return err.into_response(media),
    };
    if matches!(
        operation_type(&state.documents, &params),
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        return HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        )
        .into_response(media);
    }
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(media),
    };
    let addr = client_addr(&request);
    execute(&state, vec![params], false, viewer, addr, media).await
}

fn parse_body(body: &Bytes, max_batch: usize) -> Result<(Vec<Params>, bool), HttpError> {
    if body.is_empty() {
        return Err(HttpError::bad_request("the request body is empty"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| HttpError::bad_request(format!("the body is not valid JSON: {e}")))?;
    match &value {
        Value::Array(items) => {
            if items.is_empty() || items.len() > max_batch {
                return Err(HttpError::bad_request(format!(
                    "a batch holds 1 to {max_batch} requests"
                )));
            }
            let batch = items
                .iter()
                .map(params_from_json)
                .collect::<Result<_, _>>()?;
            Ok((batch, true))
        }
        _ => Ok((vec![params_from_json(&value)?], false)),
    }
}

pub async fn post_graphql(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let media = match preferred_media(&headers) {
        Some(MediaType::Html) => MediaType::Json,
        Some(media) => media,
        None => return not_acceptable(),
    };
    if is_multipart(&headers) {
        return post_multipart(&state, request, media).await;
    }
    if !is_json_body(&headers) {
        return HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json",
        )
        .into_response(media);
    }
    let addr = client_addr(&request);
    let body = match to_bytes(request.into_body(), state.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            return HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the body exceeds {} bytes", state.limits.max_body_bytes),
            )
            .into_response(media)
        }
    };
    let (batch, is_batch) = match parse_body(&body, state.limits.max_batch) {
        Ok(parsed) => parsed,
        Err(err) => return err.into_response(media),
    };
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(media),
    };
    execute(&state, batch, is_batch, viewer, addr, media).await
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The GraphQL multipart request spec (file uploads): `operations`, `map` and the files.
async fn post_multipart(state: &AppState, request: Request, media: MediaType) -> Response {
    let headers = request.headers().clone();
    let addr = client_addr(&request);
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match to_bytes(request.into_body(), state.limits.max_upload_bytes).await {
        Ok(body) => body,
        Err(_) => {
            return HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the upload exceeds {} bytes", state.limits.max_upload_bytes),
            )
            .into_response(media)
        }
    };
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(state.limits.max_upload_bytes)
        .max_num_files(5);
    let batch = match async_graphql::http::receive_batch_body(
        content_type,
        futures_util::io::Cursor::new(body.to_vec()),
        options,
    )
    .await
    {
        Ok(batch) => batch,
        Err(err) => {
            return HttpError::bad_request(format!("invalid multipart request: {err}"))
                .into_response(media)
        }
    };
    let viewer = match viewer(state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(media),
    };
    let (requests, is_batch) = match batch {
        async_graphql::BatchRequest::Single(request) => (vec![request], false),
        async_graphql::BatchRequest::Batch(requests) => (requests, true),
    };
    if requests.is_empty() || requests.len() > state.limits.max_batch {
        return HttpError::bad_request("a batch holds 1 to 10 requests").into_response(media);
    }
    run_all(state, requests, is_batch, viewer, addr, media).await
}
