//! Shared fixtures: a `TestApp` with its own fresh, migrated database per test, and helpers
//! that send real HTTP requests through the router.
//!
//! Without `TEST_DATABASE_URL` each test gets a SQLite file in a temporary directory. With
//! `TEST_DATABASE_URL=postgres://…` each test gets its own PostgreSQL schema, dropped after.

#![allow(dead_code)]

use std::sync::Once;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use partnergraph::config::{AuthConfig, HttpConfig, Limits};
use partnergraph::state::AppState;
use partnergraph::{build_state, db, demo, http};
use rand::Rng;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const DEMO_PASSWORD: &str = demo::DEMO_PASSWORD;
pub const MANAGER: &str = "manager@vendor.example";
pub const REP: &str = "rep@vendor.example";
pub const ALICE_NORTHWIND: &str = "alice@northwind.example";
pub const DAVE_SUMMIT: &str = "dave@summit-distribution.example";
pub const BOB_TIERTWO: &str = "bob@tiertwo.example";

pub const LOGIN: &str =
    "mutation($i: LoginInput!){ login(input: $i){ accessToken refreshToken user { id role partner { name } } userErrors { field message code } } }";

enum Storage {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Storage::Postgres { admin_url, schema } = self {
            let (url, schema) = (admin_url.clone(), schema.clone());
            // Drop runs outside async code; a throwaway runtime on its own thread cleans up.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = db::connect(&url, None).await.ok()?;
                    // Cleanup must never hang a run: give up (leaving the schema in the
                    // throwaway cluster) if something still holds a lock in it.
                    admin
                        .execute_unprepared("SET lock_timeout = '10s'")
                        .await
                        .ok()?;
                    admin
                        .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await
                        .ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub router: Router,
    /// Uploaded files of this test.
    pub files: tempfile::TempDir,
    pub state: AppState,
    pub db: DatabaseConnection,
    /// Where the database lives, so a second replica can share it.
    url: String,
    search_path: Option<String>,
    _storage: Storage,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

fn announce_backend(postgres: bool) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if postgres {
            eprintln!("tests run on PostgreSQL (TEST_DATABASE_URL)");
        } else {
            eprintln!("tests run on SQLite; set TEST_DATABASE_URL=postgres://… to run them on PostgreSQL too");
        }
    });
}

/// Auth settings for tests: a fixed secret, and the production throttle.
pub fn test_auth_config() -> AuthConfig {
    AuthConfig {
        jwt_secret: Some("test-secret-that-is-long-enough-for-hs256".into()),
        ..AuthConfig::default()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_auth(test_auth_config()).await
    }

    /// A fresh database holding the demo program (`serve --demo`).
    pub async fn demo() -> Self {
        let app = Self::new().await;
        assert!(
            demo::seed(&app.db).await.expect("seed demo"),
            "demo seeded into an empty database"
        );
        app
    }

    pub async fn with_auth(auth: AuthConfig) -> Self {
        Self::with_config(auth, Limits::default()).await
    }

    pub async fn with_limits(limits: Limits) -> Self {
        Self::with_config(test_auth_config(), limits).await
    }

    pub async fn with_config(auth: AuthConfig, limits: Limits) -> Self {
        Self::with_everything(auth, limits, HttpConfig::default()).await
    }

    /// A fresh database with the demo program, and this front-door configuration.
    pub async fn demo_with_http(http: HttpConfig) -> Self {
        let app = Self::with_everything(test_auth_config(), Limits::default(), http).await;
        assert!(demo::seed(&app.db).await.expect("seed demo"));
        app
    }

    pub async fn with_everything(auth: AuthConfig, limits: Limits, http: HttpConfig) -> Self {
        let (storage, url, search_path) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                announce_backend(true);
                let schema = format!("t_{:016x}", rand::thread_rng().gen::<u64>());
                let admin = db::connect(&url, None)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .expect("create test schema");
                admin.close().await.ok();
                let storage = Storage::Postgres {
                    admin_url: url.clone(),
                    schema: schema.clone(),
                };
                (storage, url, Some(schema))
            }
            _ => {
                announce_backend(false);
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (Storage::Sqlite(dir), url, None)
            }
        };
        let connection = db::connect(&url, search_path.as_deref())
            .await
            .expect("connect");
        db::migrate(&connection).await.expect("migrate");
        let files = tempfile::tempdir().expect("files dir");
        let store = partnergraph::content::FileStore::new(files.path());
        let mut http = http;
        // Tests receive webhooks on 127.0.0.1, as the demo does.
        http.webhooks.allow_private = true;
        let state = build_state(connection.clone(), auth, limits, http, store)
            .await
            .expect("build state");
        TestApp {
            router: http::router(state.clone()),
            files,
            state,
            db: connection,
            url,
            search_path,
            _storage: storage,
        }
    }

    /// A second server process on the same database, as a second replica would be.
    pub async fn replica(&self, auth: AuthConfig) -> Router {
        http::router(self.replica_state(auth).await)
    }

    /// The state of a second replica on the same database (its own pool, bus and workers).
    pub async fn replica_state(&self, auth: AuthConfig) -> AppState {
        let connection = db::connect(&self.url, self.search_path.as_deref())
            .await
            .expect("connect");
        let store = partnergraph::content::FileStore::new(self.files.path());
        // Configured as this one is: replicas of one deployment share their settings.
        let http = HttpConfig::clone(&self.state.http);
        let limits = Limits::clone(&self.state.limits);
        build_state(connection, auth, limits, http, store)
            .await
            .expect("build state")
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send_to(&self.router, request).await
    }

    /// POSTs a GraphQL request as JSON and returns the HTTP response.
    pub async fn post(&self, token: Option<&str>, body: Value) -> TestResponse {
        self.send(graphql_request(token, &body)).await
    }

    /// Runs a GraphQL operation and returns the response body (HTTP 200 required).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        gql_on(&self.router, token, query, variables).await
    }

    /// Logs a demo user in and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        login_on(&self.router, email, DEMO_PASSWORD).await
    }

    /// Waits until this replica answers `bearer` from memory (see `remembered_on`).
    pub async fn remembered(&self, bearer: &str) {
        remembered_on(&self.router, &self.state.statements, bearer).await
    }
}

pub fn graphql_request(token: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(
            "accept",
            "application/graphql-response+json, application/json;q=0.9",
        );
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

pub async fn send_to(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

pub async fn gql_on(router: &Router, token: Option<&str>, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables });
    let response = send_to(router, graphql_request(token, &body)).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "GraphQL request failed: {}",
        response.text()
    );
    response.json()
}

pub async fn login_on(router: &Router, email: &str, password: &str) -> String {
    let response = gql_on(
        router,
        None,
        LOGIN,
        json!({ "i": { "email": email, "password": password } }),
    )
    .await;
    response["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {email} failed: {response}"))
        .to_owned()
}

/// Sends `{ __typename }` with `bearer` (a session's token or an API key) until the replica
/// answers it without a statement: the caller's check is then remembered by that replica.
/// Panics after five seconds.
pub async fn remembered_on(router: &Router, statements: &db::StatementCounter, bearer: &str) {
    let me = json!({ "query": "{ __typename }" });
    for _ in 0..250 {
        let before = statements.get();
        let response = send_to(router, graphql_request(Some(bearer), &me)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        if statements.get() == before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the caller was never answered from memory");
}

/// Sends `{ me { id } }` with `bearer` to `router` until it is refused with 401, and answers
/// how long that took. Panics if it is still accepted after `limit`.
pub async fn refused_within(
    router: &Router,
    bearer: &str,
    limit: std::time::Duration,
) -> std::time::Duration {
    let me = json!({ "query": "{ me { id } }" });
    let started = std::time::Instant::now();
    loop {
        let response = send_to(router, graphql_request(Some(bearer), &me)).await;
        if response.status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        assert!(
            started.elapsed() < limit,
            "still accepted after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `extensions.code` of the first error, if any.
pub fn error_code(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// Node names of a connection's edges.
pub fn edge_names(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The global ID of the partner named `name`, looked up as the demo manager.
pub async fn partner_id(app: &TestApp, name: &str) -> String {
    let manager = app.login(MANAGER).await;
    let response = app
        .gql(
            Some(&manager),
            "{ partners(first: 100) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    response["data"]["partners"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["name"] == name)
        .unwrap_or_else(|| panic!("no partner {name}"))["node"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

impl TestApp {
    /// Logs `email` in (demo password) and runs one operation as that user.
    pub async fn gql_as(&self, email: &str, query: &str, variables: Value) -> Value {
        let token = self.login(email).await;
        self.gql(Some(&token), query, variables).await
    }
}

/// `userErrors[].field` of a payload.
pub fn error_fields(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// `userErrors[].code` of a payload.
pub fn error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The global ID of `me` for a demo user.
pub async fn user_id(app: &TestApp, email: &str) -> String {
    let me = app.gql_as(email, "{ me { id } }", json!({})).await;
    me["data"]["me"]["id"].as_str().expect("me.id").to_owned()
}

/// The global ID of the product called `name`.
pub async fn product_id(app: &TestApp, name: &str) -> String {
    id_in(
        app,
        "{ products { edges { node { id name } } } }",
        "products",
        "name",
        name,
    )
    .await
}

/// The global ID of a node found by `name`/`title` in a manager's view of a connection.
pub async fn id_in(
    app: &TestApp,
    connection_query: &str,
    field: &str,
    key: &str,
    value: &str,
) -> String {
    let response = app.gql_as(MANAGER, connection_query, json!({})).await;
    response["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} edges: {response}"))
        .iter()
        .find(|e| e["node"][key] == value)
        .unwrap_or_else(|| panic!("no {field} with {key} {value}"))["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl TestApp {
    /// Serves the router on a real TCP port (WebSockets need one); its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        serve_router(self.router.clone()).await
    }

    /// Creates an API key as `email` and returns its secret.
    pub async fn api_key(&self, email: &str, name: &str, scopes: &[&str]) -> String {
        let created = self
            .gql_as(
                email,
                "mutation($i: CreateApiKeyInput!){ createApiKey(input: $i){ secret apiKey { prefix } userErrors { field message } } }",
                json!({ "i": { "name": name, "scopes": scopes } }),
            )
            .await;
        created["data"]["createApiKey"]["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("no key: {created}"))
            .to_owned()
    }
}

/// What a webhook receiver was sent: each request's headers and body.
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver on 127.0.0.1 that answers each request with the next of `statuses`
/// (the last one from then on); its URL and what it received.
pub async fn webhook_receiver(statuses: Vec<u16>) -> (String, Received) {
    use axum::routing::post;
    let received: Received = Default::default();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(statuses));
    let seen = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            let answers = answers.clone();
            async move {
                seen.lock().unwrap().push((headers, body));
                let mut answers = answers.lock().unwrap();
                let status = if answers.len() > 1 {
                    answers.remove(0)
                } else {
                    answers[0]
                };
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

/// Serves `router` on a real TCP port of 127.0.0.1; its address.
pub async fn serve_router(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

/// A Northwind user who is not its organisation's admin, created by its admin; signed in.
pub async fn northwind_member(app: &TestApp) -> String {
    let northwind = partner_id(app, "Northwind").await;
    let created = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation($i: CreateUserInput!){ createUser(input: $i){ userErrors { field message } } }",
            json!({ "i": { "email": "member@northwind.example", "name": "Member", "role": "PARTNER",
                           "partnerId": northwind, "password": "a-good-long-password" } }),
        )
        .await;
    assert_eq!(
        created["data"]["createUser"]["userErrors"],
        json!([]),
        "{created}"
    );
    login_on(
        &app.router,
        "member@northwind.example",
        "a-good-long-password",
    )
    .await
}
