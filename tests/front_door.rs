//! The front door under hostile and ordinary clients: documents the parser or validation
//! could not survive, out-of-range Ints, NUL bytes, failed nullable fields, error codes,
//! introspection, CORS, compression, persisted queries, revalidation, the login throttle
//! behind a trusted proxy, request ids and metrics.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use partnergraph::config::{HttpConfig, Introspection};
use serde_json::{json, Value};

use crate::common::*;

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("accept", "application/json")
        .body(Body::empty())
        .expect("request")
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn code_of(response: &TestResponse) -> Option<String> {
    error_code(&response.json())
}

/// `[[[[1]]]]` or `{a:{a:1}}` nested `depth` deep.
fn nested(depth: usize, list: bool) -> String {
    if list {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", "{a:".repeat(depth), "}".repeat(depth))
    }
}

#[tokio::test]
async fn deeply_nested_literals_are_refused_in_every_position_and_the_server_stays_up() {
    let app = TestApp::demo().await;
    for list in [true, false] {
        let value = nested(5_000, list);
        let documents = [
            format!("{{ nodes(ids: {value}) {{ id }} }}"),
            format!("query($v: [ID!] = {value}) {{ nodes(ids: $v) {{ id }} }}"),
            format!("{{ __typename @include(if: {value}) }}"),
            format!("{{ me(nope: {value}) {{ id }} }}"),
        ];
        for query in documents {
            let started = Instant::now();
            let posted = app.post(None, json!({ "query": query })).await;
            assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{}", posted.text());
            assert_eq!(code_of(&posted).as_deref(), Some("QUERY_TOO_COMPLEX"));
            let got = app
                .send(get(&format!("/graphql?query={}", url_encode(&query))))
                .await;
            assert_eq!(got.status, StatusCode::OK, "{}", got.text());
            assert_eq!(code_of(&got).as_deref(), Some("QUERY_TOO_COMPLEX"));
            assert!(started.elapsed() < Duration::from_secs(5));
        }
    }
    let alive = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(alive["data"]["__typename"], "Query");
}

#[tokio::test]
async fn fragment_fan_out_is_refused_before_validation_expands_it() {
    let app = TestApp::demo().await;
    let mut query = String::from("query { ...F30 } fragment F0 on Query { __typename }");
    for level in 1..=30 {
        let below = level - 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{below} ...F{below} }}"
        ));
    }
    let started = Instant::now();
    let response = app.post(None, json!({ "query": query })).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&response).as_deref(), Some("QUERY_TOO_COMPLEX"));
}

#[tokio::test]
async fn an_out_of_range_int_in_a_mutations_payload_stops_the_mutation_before_it_runs() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let count = "{ contents(first: 1) { totalCount } }";
    let before = app.gql(Some(&manager), count, json!({})).await;
    let mutation = "mutation { createContent(input: {title: \"Never stored\", kind: OTHER}) {
        content { versions(first: 2147483648) { totalCount } } userErrors { field } } }";
    let response = app.post(Some(&manager), json!({ "query": mutation })).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let body = response.json();
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    let after = app.gql(Some(&manager), count, json!({})).await;
    assert_eq!(
        before["data"]["contents"]["totalCount"],
        after["data"]["contents"]["totalCount"]
    );
}

#[tokio::test]
async fn nul_characters_in_text_inputs_are_bad_user_input_with_the_field() {
    let app = TestApp::demo().await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let count = "{ dealRegistrations(first: 1) { totalCount } }";
    let before = app.gql(Some(&alice), count, json!({})).await;
    let register =
        "mutation($i: RegisterDealInput!) { registerDeal(input: $i) { registration { id } } }";
    let input = json!({ "customerName": "Acme\u{0}Corp", "productIds": [cloud] });
    let response = app
        .post(
            Some(&alice),
            json!({ "query": register, "variables": { "i": input } }),
        )
        .await;
    let body = response.json();
    assert_eq!(
        error_code(&body).as_deref(),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "$i.customerName");
    let literal = format!(
        "mutation {{ registerDeal(input: {{customerName: \"Acme\\u0000\", productIds: [\"{cloud}\"]}}) {{ registration {{ id }} }} }}"
    );
    let body = app
        .post(Some(&alice), json!({ "query": literal }))
        .await
        .json();
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.customerName"
    );
    let after = app.gql(Some(&alice), count, json!({})).await;
    assert!(before["data"]["dealRegistrations"]["totalCount"].is_number());
    assert_eq!(before["data"], after["data"]);
}

#[tokio::test]
async fn a_failed_nullable_field_answers_null_in_place_beside_the_others() {
    let app = TestApp::demo().await;
    let response = app
        .gql(
            None,
            "{ partner(id: \"UGFydG5lcjox\") { name } __typename }",
            json!({}),
        )
        .await;
    let data = response["data"].as_object().expect("data is an object");
    assert!(data.contains_key("partner"), "{response}");
    assert!(data["partner"].is_null());
    assert_eq!(data["__typename"], "Query");
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(response["errors"][0]["path"], json!(["partner"]));
}

#[tokio::test]
async fn request_errors_carry_codes_and_anonymous_callers_get_no_suggestions_or_introspection() {
    let app = TestApp::demo().await;
    let broken = app.post(None, json!({ "query": "{ me { " })).await;
    assert_eq!(code_of(&broken).as_deref(), Some("GRAPHQL_PARSE_FAILED"));
    let misspelt = app
        .post(None, json!({ "query": "{ partnrs { totalCount } }" }))
        .await;
    assert_eq!(
        code_of(&misspelt).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED")
    );
    assert!(
        !misspelt.text().contains("Did you mean"),
        "{}",
        misspelt.text()
    );
    let manager = app.login(MANAGER).await;
    let told = app
        .post(
            Some(&manager),
            json!({ "query": "{ partnrs { totalCount } }" }),
        )
        .await;
    assert!(told.text().contains("Did you mean"), "{}", told.text());

    let introspect = "{ __schema { queryType { name } } }";
    let anonymous = app.post(None, json!({ "query": introspect })).await.json();
    assert!(anonymous["errors"].is_array(), "{anonymous}");
    assert!(anonymous["data"]["__schema"].is_null());
    let signed_in = app.gql(Some(&manager), introspect, json!({})).await;
    assert_eq!(signed_in["data"]["__schema"]["queryType"]["name"], "Query");

    let open = TestApp::demo_with_http(HttpConfig {
        introspection: Introspection::On,
        ..HttpConfig::default()
    })
    .await;
    let anyone = open.gql(None, introspect, json!({})).await;
    assert_eq!(anyone["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn cors_preflights_answer_listed_origins_only() {
    let app = TestApp::demo_with_http(HttpConfig {
        cors_origins: vec!["https://portal.example.com".into()],
        ..HttpConfig::default()
    })
    .await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let listed = app.send(preflight("https://portal.example.com")).await;
    assert_eq!(listed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        listed.headers["access-control-allow-origin"],
        "https://portal.example.com"
    );
    let allowed = listed.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    let unlisted = app.send(preflight("https://evil.example")).await;
    assert!(!unlisted.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn large_responses_are_compressed_for_clients_that_accept_it() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let query = "{ partners(first: 50) { edges { node { id name type status region country tier { name } } } } contents(first: 50) { edges { node { id title body tags } } } }";
    let mut request = graphql_request(Some(&manager), &json!({ "query": query }));
    request
        .headers_mut()
        .insert("accept-encoding", "gzip".parse().unwrap());
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-encoding"], "gzip");
    let small = app.send(get("/healthz")).await;
    assert!(!small.headers.contains_key("content-encoding"));
}

#[tokio::test]
async fn automatic_persisted_queries_register_once_and_serve_every_replica() {
    let app = TestApp::demo().await;
    let query = "{ __typename }";
    let hash = partnergraph::http::persisted::sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let miss = app.post(None, json!({ "extensions": extensions })).await;
    assert_eq!(miss.status, StatusCode::OK);
    assert_eq!(code_of(&miss).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));
    let wrong = app
        .post(
            None,
            json!({ "query": "{ me { id } }", "extensions": extensions }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let registered = app
        .post(None, json!({ "query": query, "extensions": extensions }))
        .await;
    assert_eq!(registered.json()["data"]["__typename"], "Query");
    let hit = app.post(None, json!({ "extensions": extensions })).await;
    assert_eq!(hit.json()["data"]["__typename"], "Query", "{}", hit.text());
    let other = app.replica(test_auth_config()).await;
    let uri = format!(
        "/graphql?extensions={}",
        url_encode(&extensions.to_string())
    );
    let on_other = send_to(&other, get(&uri)).await;
    assert_eq!(
        on_other.json()["data"]["__typename"],
        "Query",
        "{}",
        on_other.text()
    );
}

#[tokio::test]
async fn get_answers_carry_an_etag_and_revalidate_with_304() {
    let app = TestApp::demo().await;
    let uri = format!("/graphql?query={}", url_encode("{ __typename }"));
    let first = app.send(get(&uri)).await;
    assert_eq!(first.status, StatusCode::OK);
    let tag = first.headers["etag"].to_str().unwrap().to_owned();
    let mut again = get(&uri);
    again
        .headers_mut()
        .insert("if-none-match", tag.parse().unwrap());
    let revalidated = app.send(again).await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
    let mut stale = get(&uri);
    stale
        .headers_mut()
        .insert("if-none-match", "W/\"other\"".parse().unwrap());
    assert_eq!(app.send(stale).await.status, StatusCode::OK);
}

fn login_from(peer: &str, forwarded_for: &str, email: &str, password: &str) -> Request<Body> {
    let body =
        json!({ "query": LOGIN, "variables": { "i": { "email": email, "password": password } } });
    let mut request = graphql_request(None, &body);
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded_for.parse().unwrap());
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[tokio::test]
async fn a_strangers_wrong_passwords_never_lock_the_owner_out_behind_a_trusted_proxy() {
    let app = TestApp::demo_with_http(HttpConfig {
        trusted_proxies: partnergraph::http::client::parse_proxies("10.0.0.0/8").unwrap(),
        ..HttpConfig::default()
    })
    .await;
    let free = test_auth_config().throttle.free_failures_per_client;
    for _ in 0..free {
        let wrong = app
            .send(login_from(
                "10.0.0.1",
                "203.0.113.66",
                ALICE_NORTHWIND,
                "wrong-password",
            ))
            .await;
        assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    }
    // The stranger now waits, and is told for how long.
    let waiting = app
        .send(login_from(
            "10.0.0.1",
            "203.0.113.66",
            ALICE_NORTHWIND,
            DEMO_PASSWORD,
        ))
        .await;
    let body = waiting.json();
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(waiting.headers.contains_key("retry-after"));
    // The owner, from another address behind the same proxy, signs in at once. A client
    // that writes its own X-Forwarded-For entry cannot borrow the owner's address.
    let owner = app
        .send(login_from(
            "10.0.0.1",
            "198.51.100.7, 203.0.113.7",
            ALICE_NORTHWIND,
            DEMO_PASSWORD,
        ))
        .await;
    assert!(
        owner.json()["data"]["login"]["accessToken"].is_string(),
        "{}",
        owner.text()
    );
    let spoofed = app
        .send(login_from(
            "10.0.0.1",
            "203.0.113.7, 203.0.113.66",
            ALICE_NORTHWIND,
            DEMO_PASSWORD,
        ))
        .await;
    assert_eq!(code_of(&spoofed).as_deref(), Some("RATE_LIMITED"));
    let metrics = app.send(get("/metrics")).await.text();
    assert!(
        metrics.contains("partnergraph_login_throttled_total 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn every_request_has_an_id_and_metrics_have_a_latency_histogram() {
    let app = TestApp::demo().await;
    let mut request = get("/healthz");
    request
        .headers_mut()
        .insert("x-request-id", "trace-abc.123".parse().unwrap());
    let echoed = app.send(request).await;
    assert_eq!(echoed.headers["x-request-id"], "trace-abc.123");
    let mut hostile = get("/healthz");
    hostile
        .headers_mut()
        .insert("x-request-id", "a b\"c".parse().unwrap());
    let replaced = app.send(hostile).await;
    let id = replaced.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32);
    app.gql(None, "query Probe { __typename }", json!({})).await;
    let metrics = app.send(get("/metrics")).await.text();
    for expected in [
        "partnergraph_http_request_duration_seconds_bucket",
        "partnergraph_http_requests_total{operation_type=\"query\",outcome=\"ok\",route=\"graphql\"}",
        "partnergraph_http_requests_in_flight",
        "partnergraph_db_connections_in_use",
        "partnergraph_sql_statements_total",
    ] {
        assert!(metrics.contains(expected), "{expected} missing from:\n{metrics}");
    }
}

/// A counter's value in the metrics text.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{metrics}")) as u64
}

#[tokio::test]
async fn statements_on_the_replicas_own_clock_are_counted_apart_from_requests() {
    let app = TestApp::demo().await;
    let token = app.login(ALICE_NORTHWIND).await;
    app.remembered(&token).await;
    let before = app.send(get("/metrics")).await.text();
    // The workers look for work and the rate limits are shared about once a second
    // (SQLite's event bus and credential feed more often); no request runs meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let after = app.send(get("/metrics")).await.text();
    let statements = "partnergraph_sql_statements_total";
    let background = "partnergraph_sql_background_total";
    assert_eq!(counter(&after, statements), counter(&before, statements));
    assert!(
        counter(&after, background) > counter(&before, background),
        "{after}"
    );
    // A remembered caller's query that needs no row costs no statement.
    app.gql(Some(&token), "{ __typename }", json!({})).await;
    let then = app.send(get("/metrics")).await.text();
    assert_eq!(counter(&then, statements), counter(&after, statements));
}

#[tokio::test]
async fn graphiql_gets_a_content_security_policy_and_a_favicon() {
    let app = TestApp::new().await;
    let page = app
        .send(
            Request::get("/graphql")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"));
    let icon = app.send(get("/favicon.ico")).await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
}

/// Readiness runs a statement on the server's connections.
#[tokio::test]
async fn readiness_checks_the_database() {
    let app = TestApp::new().await;
    let ready: Value = app.send(get("/readyz")).await.json();
    assert_eq!(ready["database"], "ok");
}

#[tokio::test]
async fn a_logins_payload_resolves_as_the_user_who_just_signed_in() {
    let app = TestApp::demo().await;
    let query = "mutation($i: LoginInput!) { login(input: $i) {
        user { email partner { name parent { name } } } } }";
    for (email, partner) in [(BOB_TIERTWO, "TierTwo"), (ALICE_NORTHWIND, "Northwind")] {
        let response = app
            .gql(
                None,
                query,
                json!({ "i": { "email": email, "password": DEMO_PASSWORD } }),
            )
            .await;
        assert!(response.get("errors").is_none(), "{response}");
        assert_eq!(
            response["data"]["login"]["user"]["partner"]["name"],
            partner
        );
    }
}

#[tokio::test]
async fn a_request_past_its_time_budget_is_cancelled_and_answered_503() {
    let app = TestApp::with_limits(partnergraph::config::Limits {
        request_timeout: Duration::from_millis(1),
        ..Default::default()
    })
    .await;
    partnergraph::demo::seed(&app.db).await.expect("demo");
    // A login hashes a password with argon2: far longer than a millisecond.
    let body = json!({ "query": LOGIN, "variables": { "i": { "email": MANAGER, "password": DEMO_PASSWORD } } });
    let response = app.post(None, body).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code_of(&response).as_deref(), Some("REQUEST_TIMEOUT"));
    assert!(response.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn persisted_queries_stop_registering_at_their_cap_and_still_run() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = TestApp::new().await;
    let cap = partnergraph::http::persisted::MAX_PERSISTED_QUERIES;
    let rows: Vec<_> = (0..cap)
        .map(|n| entity::persisted_query::ActiveModel {
            sha256: Set(format!("{n:064x}")),
            query: Set(format!("{{ __typename }} # {n}")),
            created_at: Set(chrono::Utc::now()),
        })
        .collect();
    for chunk in rows.chunks(1000) {
        entity::persisted_query::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .expect("fill");
    }
    let query = "{ __typename }";
    let hash = partnergraph::http::persisted::sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let ran = app
        .post(None, json!({ "query": query, "extensions": extensions }))
        .await;
    assert_eq!(ran.json()["data"]["__typename"], "Query");
    let miss = app.post(None, json!({ "extensions": extensions })).await;
    assert_eq!(code_of(&miss).as_deref(), Some("PERSISTED_QUERY_NOT_FOUND"));
}
