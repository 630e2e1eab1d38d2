//! GraphQL over WebSocket (the graphql-transport-ws protocol of the `graphql-ws` library,
//! and the older subscriptions-transport-ws) at `/graphql`, for subscriptions.
//!
//! The caller authenticates in `connection_init`'s payload (`{"authorization": "Bearer …"}`,
//! a session's access token or an API key); a connection without one is closed. Each
//! operation passes the same checks as over HTTP before it runs (the pre-parse scan, the
//! document's expansion and argument checks, an API key's scopes). Queries and mutations
//! belong on POST: only subscriptions run here. The credential is checked again every
//! `RECHECK`; once its session ends, it expires or its key is revoked, the socket closes
//! with 4401. A socket that does not authenticate within 10 s closes with 4408; messages
//! are at most 256 KiB, and a socket holds at most 100 subscriptions.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use super::admission::admit;
use super::coded_error;
use crate::auth::{ClientAddr, SignedIn, Viewer};
use crate::error::AppError;
use crate::integrations::scopes::refuse_document;
use crate::loaders;
use crate::state::AppState;

/// How often an open socket's credential is checked again.
const RECHECK: Duration = Duration::from_secs(5);
/// Close code for an ended session or revoked key (graphql-ws: 4401 Unauthorized).
const UNAUTHORIZED: u16 = 4401;
/// Close code for a `connection_init` without valid credentials (graphql-ws: 4403).
const FORBIDDEN: u16 = 4403;
/// Close code for a socket that never sent `connection_init` (graphql-ws: 4408).
const INIT_TIMEOUT: u16 = 4408;
/// How long a socket may stay open without authenticating.
const INIT_WITHIN: Duration = Duration::from_secs(10);
/// The largest message a client may send (a subscription document and its variables).
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Subscriptions one socket may hold at once.
const MAX_SUBSCRIPTIONS: usize = 100;

/// Whether `request` asks to become a WebSocket.
pub fn is_upgrade(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub async fn upgrade(state: AppState, request: axum::extract::Request) -> HttpResponse {
    let (mut parts, _body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let addr = ClientAddr(super::client::client_address(
        peer,
        &parts.headers,
        &state.http.trusted_proxies,
    ));
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &state).await {
        Ok(protocol) => protocol,
        Err(rejection) => return rejection.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, socket, protocol, addr))
}

/// The connection's caller, set by `connection_init`.
#[derive(Clone, Default)]
struct Caller {
    viewer: Arc<OnceLock<Viewer>>,
    bearer: Arc<OnceLock<String>>,
}

async fn serve(state: AppState, socket: WebSocket, protocol: GraphQLProtocol, addr: ClientAddr) {
    let caller = Caller::default();
    let executor = Checked {
        state: state.clone(),
        caller: caller.clone(),
        open: Arc::default(),
    };
    let (mut sink, stream) = socket.split();
    let expired = {
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<()>();
        let input = stream.take_until(ended_rx);
        let init_state = state.clone();
        let init_caller = caller.clone();
        let signed_in = caller.viewer.clone();
        // async-graphql closes a refused `connection_init` with 1002; graphql-ws clients
        // read 4403 as "forbidden, do not retry with the same credentials".
        let output = (&mut sink).with(move |message: Message| {
            let refused = matches!(&message, Message::Close(Some(frame)) if frame.code == 1002)
                && signed_in.get().is_none();
            let message = match message {
                Message::Close(Some(frame)) if refused => Message::Close(Some(CloseFrame {
                    code: FORBIDDEN,
                    reason: frame.reason,
                })),
                other => other,
            };
            std::future::ready(Ok::<_, axum::Error>(message))
        });
        let session = GraphQLWebSocket::new_with_pair(output, input, executor, protocol)
            .on_connection_init(move |payload| {
                connection_init(init_state, init_caller, payload, addr)
            })
            .serve();
        tokio::pin!(session);
        let watch = watch_credential(state, caller);
        tokio::pin!(watch);
        tokio::select! {
            () = &mut session => None,
            ended = &mut watch => {
                let _ = ended_tx.send(());
                // Let the session finish sending what it has, briefly.
                let _ = tokio::time::timeout(Duration::from_secs(1), &mut session).await;
                Some(ended)
            }
        }
    };
    if let Some(frame) = expired {
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}

/// Resolves, with the frame to close the socket with, once the connection's credential
/// stops being valid, or when none came within `INIT_WITHIN`.
async fn watch_credential(state: AppState, caller: Caller) -> CloseFrame {
    let opened = std::time::Instant::now();
    loop {
        tokio::time::sleep(RECHECK).await;
        let Some(bearer) = caller.bearer.get() else {
            if opened.elapsed() >= INIT_WITHIN {
                return CloseFrame {
                    code: INIT_TIMEOUT,
                    reason: "Connection initialisation timeout".into(),
                };
            }
            continue;
        };
        match state.auth.authenticate(&state.db, bearer).await {
            Err(AppError::Unauthenticated(_)) => {
                return CloseFrame {
                    code: UNAUTHORIZED,
                    reason: "the session ended or the API key was revoked".into(),
                }
            }
            // A database hiccup is no reason to drop a subscriber.
            _ => continue,
        }
    }
}

async fn connection_init(
    state: AppState,
    caller: Caller,
    payload: serde_json::Value,
    addr: ClientAddr,
) -> async_graphql::Result<Data> {
    let header = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
        .ok_or_else(|| {
            async_graphql::Error::new("send {\"authorization\": \"Bearer …\"} in connection_init")
        })?;
    let bearer = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => header.trim(),
    };
    let actor = state
        .auth
        .authenticate(&state.db, bearer)
        .await
        .map_err(|e| async_graphql::Error::new(e.to_string()))?;
    let viewer = Viewer::User(Arc::new(actor));
    let _ = caller.viewer.set(viewer.clone());
    let _ = caller.bearer.set(bearer.to_owned());
    let mut data = Data::default();
    data.insert(viewer);
    data.insert(addr);
    Ok(data)
}

/// The schema behind the same checks as the HTTP handler's.
#[derive(Clone)]
struct Checked {
    state: AppState,
    caller: Caller,
    /// Subscriptions this socket holds now.
    open: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a subscription as open (on its socket and in the replica's metrics) for as long
/// as its stream lives.
struct Held {
    open: Arc<std::sync::atomic::AtomicUsize>,
    gauge: prometheus::IntGauge,
}

impl Held {
    /// Counts one more; how many the socket held before.
    fn take(
        open: &Arc<std::sync::atomic::AtomicUsize>,
        gauge: &prometheus::IntGauge,
    ) -> (usize, Held) {
        let before = open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        gauge.inc();
        let held = Held {
            open: open.clone(),
            gauge: gauge.clone(),
        };
        (before, held)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.gauge.dec();
    }
}

impl Checked {
    fn refusal(&self, request: &Request) -> Option<Response> {
        let refuse = |message: String, code: &'static str| {
            Some(Response::from_errors(vec![coded_error(
                message, code, None,
            )]))
        };
        let document = match self
            .state
            .documents
            .parse(&request.query, self.state.limits.scan())
        {
            Ok(document) => document,
            Err(error) => return Some(Response::from_errors(vec![error])),
        };
        let operation = request.operation_name.as_deref();
        let ty = super::documents::operation_of(&document, operation);
        if ty != Some(OperationType::Subscription) {
            return refuse(
                "only subscriptions run over WebSocket; send queries and mutations with POST"
                    .into(),
                "BAD_REQUEST",
            );
        }
        if let Err(refusal) = admit(
            &document,
            &request.variables,
            &self.state.types,
            self.state.limits.expansion(),
        ) {
            return Some(Response::from_errors(vec![coded_error(
                refusal.message,
                refusal.code,
                refusal.field,
            )]));
        }
        if let Some(Viewer::User(actor)) = self.caller.viewer.get() {
            if let Some(grant) = &actor.api_key {
                if let Some(why) = refuse_document(&document, operation, &grant.scopes) {
                    return refuse(why, "FORBIDDEN");
                }
            }
        }
        None
    }
}

impl Executor for Checked {
    async fn execute(&self, request: Request) -> Response {
        if let Some(refused) = self.refusal(&request) {
            return refused;
        }
        self.state.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Some(refused) = self.refusal(&request) {
            return futures_util::stream::once(async move { refused }).boxed();
        }
        let (held, held_guard) = Held::take(&self.open, &self.state.metrics.subscriptions_open);
        if held >= MAX_SUBSCRIPTIONS {
            let refused = Response::from_errors(vec![coded_error(
                format!("a socket holds at most {MAX_SUBSCRIPTIONS} subscriptions"),
                "BAD_REQUEST",
                None,
            )]);
            return futures_util::stream::once(async move {
                drop(held_guard);
                refused
            })
            .boxed();
        }
        let caller = match self.caller.viewer.get() {
            Some(Viewer::User(actor)) => Some(actor.clone()),
            _ => None,
        };
        let request = loaders::attach(
            request,
            &self.state.db,
            self.state.limits.batch_window,
            caller,
        )
        .data(SignedIn::default());
        self.state
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |response| {
                // The guard lives as long as the stream; a finished or cancelled
                // subscription frees its place.
                let _ = &held_guard;
                response
            })
            .boxed()
    }
}
