//! Our own GraphQL-over-HTTP handler around `schema.execute`: it negotiates the response
//! type, answers malformed requests with 400, refuses mutations over GET with 405, caps
//! batches, authenticates the bearer token once per request, resolves persisted queries,
//! refuses documents the server could not survive before they parse (`scan`) or validate
//! (`admission`), puts failed fields' nulls in place (`nulls`), and lets GET answers be
//! revalidated (`ETag`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{BatchResponse, ServerError, Variables};
use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::{
    ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER, VARY,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tracing::Instrument;

use super::admission::admit;
use super::documents::{operation_of, DocumentCache};
use super::negotiate::{is_json_body, preferred_media, MediaType};
use super::nulls::put_nulls_in_place;
use super::observe::RequestFacts;
use super::order::in_selection_order;
use super::params::{params_from_query_string, parse_body, Params};
use super::persisted::sha256_hex;
use super::ratelimit::cost;
use super::{coded_error, graphiql, set_code};
use crate::auth::{ClientAddr, SignedIn, Viewer};
use crate::config::Limits;
use crate::error::AppError;
use crate::integrations::scopes::refuse_document;
use crate::loaders;
use crate::state::AppState;

mod introspection;
mod uploads;

use introspection::{introspection_refused, introspects, may_introspect};
use uploads::{is_multipart, post_multipart};

/// A request the HTTP layer refuses before GraphQL runs.
pub(super) struct HttpError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl HttpError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
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
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            super::retry_later(&mut response);
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

/// The type of the operation `params` would run, if the document parses.
fn operation_type(
    documents: &DocumentCache,
    limits: &Limits,
    query: &str,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    let document = documents.parse(query, limits.scan()).ok()?;
    operation_of(&document, operation_name)
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
        Err(other) => Err(unavailable_or_internal(other)),
    }
}

fn client_addr(state: &AppState, request: &Request) -> ClientAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    ClientAddr(super::client::client_address(
        peer,
        request.headers(),
        &state.http.trusted_proxies,
    ))
}

fn to_graphql_request(params: Params, query: String) -> async_graphql::Request {
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    request
}

/// A response with `errors` alone: the request did not execute.
fn refused(error: ServerError) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![error])
}

/// Request errors (nothing executed) get a code by kind; an anonymous caller is not told
/// which names exist ("Did you mean …").
fn label_request_errors(response: &mut async_graphql::Response, anonymous: bool) {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            let too_complex = error.message.starts_with("Query is too complex")
                || error.message.starts_with("Query is nested too deep")
                || error.message.starts_with("The recursion depth");
            let code = if too_complex {
                "QUERY_TOO_COMPLEX"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            set_code(error, code);
        }
        if anonymous {
            if let Some(at) = error.message.find(" Did you mean") {
                error.message.truncate(at);
            }
        }
    }
}

/// Executes one request with the caller's identity and fresh loaders, its fields in
/// selection order; notes the operation in `facts`.
async fn run(
    state: &AppState,
    mut request: async_graphql::Request,
    viewer: &Viewer,
    addr: ClientAddr,
    facts: &mut RequestFacts,
) -> async_graphql::Response {
    let operation = request.operation_name.clone();
    facts.operation_name = operation.clone();
    let document = match state.documents.parse(&request.query, state.limits.scan()) {
        Ok(document) => document,
        Err(error) => return refused(error),
    };
    facts.operation_type = match operation_of(&document, operation.as_deref()) {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "",
    };
    // A mutation is audited under the name it was sent with, or its document's own.
    let audit_name = (facts.operation_type == "mutation").then(|| {
        operation
            .clone()
            .or_else(|| crate::audit::entry::mutation_name(&request.query))
    });
    let selections = match admit(
        &document,
        &request.variables,
        &state.types,
        state.limits.expansion(),
    ) {
        Ok(selections) => selections,
        Err(refusal) => return refused(coded_error(refusal.message, refusal.code, refusal.field)),
    };
    if let Some(verdict) = state.rate.charge(viewer, addr.0, cost(selections)) {
        let allowed = verdict.allowed;
        let reset = verdict.reset;
        facts.rate = Some(verdict);
        if !allowed {
            return refused(over_limit(reset));
        }
    }
    if let Viewer::User(actor) = viewer {
        if let Some(grant) = &actor.api_key {
            if let Some(why) = refuse_document(&document, operation.as_deref(), &grant.scopes) {
                let response = refused(coded_error(why, "FORBIDDEN", None));
                // A key trying a mutation beyond its scopes is kept, as one that ran would be.
                if let Some(name) = &audit_name {
                    let (db, vars) = (&state.db, &request.variables);
                    crate::audit::keep(
                        db,
                        Some(actor),
                        addr,
                        &document,
                        name.as_deref(),
                        vars,
                        &response,
                    )
                    .await;
                }
                return response;
            }
        }
    }
    if !may_introspect(state.http.introspection, viewer) {
        if introspects(&document) {
            return refused(introspection_refused(state.http.introspection));
        }
        request = request.disable_introspection();
    }
    // Execution takes a copy of the document, the passes after it read the cached one.
    request.set_parsed_query(ExecutableDocument::clone(&document));
    let caller = match viewer {
        Viewer::User(actor) => Some(actor.clone()),
        Viewer::Anonymous => None,
    };
    let audited = audit_name.map(|name| (request.variables.clone(), name));
    let validated = state.validated.key(&request);
    let schema = match validated {
        Some(key) if state.validated.passed(key) => &state.validated_schema,
        _ => &state.schema,
    };
    let signed_in = SignedIn::default();
    let request = loaders::attach(request, &state.db, state.limits.batch_window, caller)
        .data(viewer.clone())
        .data(signed_in.clone())
        .data(addr);
    let mut response = schema
        .execute(request)
        .instrument(crate::telemetry::operation_span(operation.as_deref()))
        .await;
    let refused = is_request_error(&response);
    if let (Some(key), false) = (validated, refused) {
        state.validated.remember(key);
    }
    if refused {
        label_request_errors(&mut response, matches!(viewer, Viewer::Anonymous));
        return response;
    }
    if let Some((variables, name)) = audited {
        let actor = match viewer {
            Viewer::User(actor) => Some(actor.clone()),
            Viewer::Anonymous => signed_in.get().cloned(),
        };
        let (db, name) = (&state.db, name.as_deref());
        crate::audit::keep(
            db,
            actor.as_deref(),
            addr,
            &document,
            name,
            &variables,
            &response,
        )
        .await;
    }
    put_nulls_in_place(&document, operation.as_deref(), &state.types, &mut response);
    in_selection_order(&document, operation.as_deref(), &mut response.data);
    response
}

/// The refusal of a request over its rate limit (answered with 429).
fn over_limit(reset: u64) -> ServerError {
    let limited = AppError::RateLimited {
        message: format!("rate limit exceeded; retry in {reset} s"),
        retry_after: reset,
    };
    let mut error = ServerError::new(limited.to_string(), None);
    set_code(&mut error, "RATE_LIMITED");
    if let Some(extensions) = error.extensions.as_mut() {
        extensions.set("retryAfter", reset);
    }
    error
}

/// Whether `response` is a request refused before anything ran with an error of `code`:
/// `FORBIDDEN` (an API key's scopes, introspection turned off) answers 403, `RATE_LIMITED`
/// (the rate limiter) 429.
fn refused_with(response: &async_graphql::Response, code: &str) -> bool {
    is_request_error(response) && response.errors.iter().any(|e| error_code(e) == Some(code))
}

/// The draft IETF `RateLimit-Policy` and `RateLimit` headers of the caller's tightest budget.
fn rate_headers(response: &mut Response, verdict: &super::ratelimit::Verdict) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-policy", verdict.policy_header()),
        ("ratelimit", verdict.state_header()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Runs a single request or a batch and answers in kind.
async fn run_all(
    state: &AppState,
    requests: Vec<Prepared>,
    is_batch: bool,
    viewer: Viewer,
    addr: ClientAddr,
    media: MediaType,
) -> Response {
    let mut responses = Vec::with_capacity(requests.len());
    let mut facts = RequestFacts {
        caller: caller_label(&viewer),
        ..RequestFacts::default()
    };
    for request in requests {
        let response = match request {
            Prepared::Ready(request) => run(state, request, &viewer, addr, &mut facts).await,
            Prepared::Answered(response) => response,
        };
        responses.push(response);
    }
    facts.outcome = outcome(&responses);
    let throttled = responses
        .iter()
        .flat_map(|r| &r.errors)
        .filter(|e| error_code(e) == Some("RATE_LIMITED"))
        .count();
    state.metrics.throttled_logins.inc_by(throttled as u64);
    let retry_after = responses
        .iter()
        .flat_map(|r| &r.errors)
        .find_map(retry_after);
    let unavailable = responses
        .iter()
        .flat_map(|r| &r.errors)
        .any(|e| error_code(e) == Some("SERVICE_UNAVAILABLE"));
    let over_limit = responses.iter().any(|r| refused_with(r, "RATE_LIMITED"));
    let forbidden = !is_batch && responses.iter().any(|r| refused_with(r, "FORBIDDEN"));
    let mut answer = if is_batch {
        facts.operation_type = "batch";
        let body = serde_json::to_vec(&BatchResponse::Batch(responses));
        serialized_response(StatusCode::OK, media, body)
    } else {
        single_response(responses.pop().expect("one request, one response"), media)
    };
    if unavailable {
        *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    if over_limit {
        state.metrics.rate_limited.inc();
        *answer.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    } else if forbidden {
        *answer.status_mut() = StatusCode::FORBIDDEN;
    }
    if let Some(verdict) = &facts.rate {
        rate_headers(&mut answer, verdict);
    }
    if let Some(seconds) = retry_after {
        answer
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    answer.extensions_mut().insert(facts);
    answer
}

fn error_code(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.as_str()),
        _ => None,
    }
}

fn retry_after(error: &ServerError) -> Option<u64> {
    match error.extensions.as_ref()?.get("retryAfter")? {
        async_graphql::Value::Number(seconds) => seconds.as_u64(),
        _ => None,
    }
}

fn caller_label(viewer: &Viewer) -> String {
    match viewer {
        Viewer::User(actor) => match &actor.api_key {
            Some(key) => format!("key:{}", key.id),
            None => format!("user:{}", actor.user_id),
        },
        Viewer::Anonymous => String::new(),
    }
}

fn outcome(responses: &[async_graphql::Response]) -> &'static str {
    if responses.iter().all(|r| r.errors.is_empty()) {
        "ok"
    } else if responses
        .iter()
        .any(|r| r.data != async_graphql::Value::Null)
    {
        "partial"
    } else {
        "error"
    }
}

/// A request ready to execute, or already answered (an unknown persisted query).
enum Prepared {
    Ready(async_graphql::Request),
    Answered(async_graphql::Response),
}

/// The document `params` stands for: its own text, or the one registered under its hash
/// (registering the text when both come).
async fn prepare(state: &AppState, params: Params) -> Result<Prepared, HttpError> {
    let query = match (params.query.clone(), &params.persisted) {
        (Some(query), None) => query,
        (Some(query), Some(hash)) => {
            if sha256_hex(&query) != *hash {
                return Err(HttpError::bad_request(
                    "provided sha256Hash does not match the query",
                ));
            }
            // Only a document that parses is kept.
            if state.documents.parse(&query, state.limits.scan()).is_ok() {
                state
                    .persisted
                    .register(&state.db, hash, &query)
                    .await
                    .map_err(unavailable_or_internal)?;
            }
            query
        }
        (None, Some(hash)) => match state
            .persisted
            .find(&state.db, hash)
            .await
            .map_err(unavailable_or_internal)?
        {
            Some(query) => query.to_string(),
            None => {
                return Ok(Prepared::Answered(refused(coded_error(
                    "PersistedQueryNotFound".into(),
                    "PERSISTED_QUERY_NOT_FOUND",
                    None,
                ))))
            }
        },
        (None, None) => return Err(HttpError::bad_request("`query` is required")),
    };
    Ok(Prepared::Ready(to_graphql_request(params, query)))
}

fn unavailable_or_internal(err: AppError) -> HttpError {
    let status = match err {
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    HttpError::new(status, err.code(), err.to_string())
}

/// Parse, validation and variable errors: nothing executed, so there is no `data`.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// An unknown persisted query is no malformed request: Apollo's clients expect it with
/// status 200, and then send the document.
fn is_persisted_query_miss(response: &async_graphql::Response) -> bool {
    response
        .errors
        .iter()
        .any(|e| error_code(e) == Some("PERSISTED_QUERY_NOT_FOUND"))
}

fn single_response(response: async_graphql::Response, media: MediaType) -> Response {
    if media == MediaType::GraphqlResponse
        && is_request_error(&response)
        && !is_persisted_query_miss(&response)
    {
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
    let mut requests = Vec::with_capacity(batch.len());
    for params in batch {
        match prepare(state, params).await {
            Ok(prepared) => requests.push(prepared),
            Err(err) => return err.into_response(media),
        }
    }
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
    if super::websocket::is_upgrade(request.headers()) {
        return super::websocket::upgrade(state, request).await;
    }
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
    // A persisted hash may stand for a mutation: it is looked up before it is refused.
    let prepared = match prepare(&state, params).await {
        Ok(prepared) => prepared,
        Err(err) => return err.into_response(media),
    };
    if let Prepared::Ready(request) = &prepared {
        let ty = operation_type(
            &state.documents,
            &state.limits,
            &request.query,
            request.operation_name.as_deref(),
        );
        if matches!(
            ty,
            Some(OperationType::Mutation | OperationType::Subscription)
        ) {
            return HttpError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "mutations must be sent with POST",
            )
            .into_response(media);
        }
    }
    let viewer = match viewer(&state, &headers).await {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(media),
    };
    let addr = client_addr(&state, &request);
    let response = run_all(&state, vec![prepared], false, viewer, addr, media).await;
    revalidated(response, &headers).await
}

/// A GET answer may be stored by the client and revalidated: it carries an `ETag` (of the
/// body as sent before compression, hence weak), and a request whose `If-None-Match` names
/// it gets `304 Not Modified` with no body.
async fn revalidated(response: Response, request_headers: &HeaderMap) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let tag = format!("W/\"{}\"", &sha256_hex(&bytes)[..32]);
    let tag = HeaderValue::from_str(&tag).expect("hex is a header value");
    parts.headers.insert(ETAG, tag.clone());
    parts
        .headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    parts
        .headers
        .insert(VARY, HeaderValue::from_static("Authorization, Accept"));
    if etag_matches(request_headers, &tag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(CONTENT_TYPE);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `If-None-Match` (weak comparison): `*`, or a list of tags one of which is `tag`.
fn etag_matches(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let ours = tag.to_str().unwrap_or("").trim_start_matches("W/");
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/") == ours)
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
    let addr = client_addr(&state, &request);
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
