//! GraphQL over HTTP behaviour (the graphql-http audit runs against the real server in CI).

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

use crate::common::*;

fn post_with(accept: Option<&str>, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post("/graphql");
    if let Some(accept) = accept {
        builder = builder.header("accept", accept);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn get(uri: &str, accept: &str) -> Request<Body> {
    Request::get(uri)
        .header("accept", accept)
        .body(Body::empty())
        .unwrap()
}

const TYPENAME: &str = r#"{"query":"{ __typename }"}"#;
const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

#[tokio::test]
async fn the_response_type_follows_accept() {
    let app = TestApp::new().await;
    for (accept, expected) in [
        (Some(GQL), GQL),
        (Some(JSON), JSON),
        (Some("*/*"), JSON),
        (None, JSON),
    ] {
        let response = app.send(post_with(accept, Some(JSON), TYPENAME)).await;
        assert_eq!(response.status, 200);
        assert!(
            response.content_type().starts_with(expected),
            "{accept:?} -> {}",
            response.content_type()
        );
        assert_eq!(response.json()["data"]["__typename"], "Query");
    }
    let refused = app
        .send(post_with(Some("image/png"), Some(JSON), TYPENAME))
        .await;
    assert_eq!(refused.status, 406);
}

#[tokio::test]
async fn request_errors_are_400_without_data_for_graphql_response_json() {
    let app = TestApp::new().await;
    for query in ["{", "{ noSuchField }"] {
        let body = json!({ "query": query }).to_string();
        let strict = app.send(post_with(Some(GQL), Some(JSON), &body)).await;
        assert_eq!(strict.status, 400, "{query}");
        let strict = strict.json();
        assert!(strict.get("data").is_none());
        assert!(strict["errors"][0]["message"].is_string());

        let legacy = app.send(post_with(Some(JSON), Some(JSON), &body)).await;
        assert_eq!(legacy.status, 200, "{query}");
        assert!(legacy.json()["errors"].is_array());
    }
    let coercion = json!({ "query": "query($id: ID!){ __typename }", "variables": { "id": null } })
        .to_string();
    assert_eq!(
        app.send(post_with(Some(GQL), Some(JSON), &coercion))
            .await
            .status,
        400
    );
    assert_eq!(
        app.send(post_with(Some(JSON), Some(JSON), &coercion))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn field_errors_keep_status_200_and_partial_data() {
    let app = TestApp::new().await;
    let body =
        json!({ "query": "{ __typename partner(id: \"UGFydG5lcjox\") { name } }" }).to_string();
    let response = app.send(post_with(Some(GQL), Some(JSON), &body)).await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["data"]["__typename"], "Query");
    assert_eq!(body["data"]["partner"], Value::Null);
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(body["errors"][0]["path"], json!(["partner"]));
    // `me` is non-null: its failure takes its parent, here `data` itself (spec, "Handling
    // Field Errors").
    let body = json!({ "query": "{ __typename me { id } }" }).to_string();
    let response = app.send(post_with(Some(GQL), Some(JSON), &body)).await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["me"]));
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let app = TestApp::new().await;
    for body in [
        "",
        "{ \"not json",
        r#"{"notquery":"{ __typename }"}"#,
        r#"{"query":0}"#,
        r#"{"query":"{ __typename }","variables":"x"}"#,
        r#"{"query":"{ __typename }","operationName":false}"#,
        r#"{"query":"{ __typename }","extensions":[1]}"#,
        "[]",
    ] {
        let response = app.send(post_with(Some(JSON), Some(JSON), body)).await;
        assert_eq!(response.status, 400, "{body:?}: {}", response.text());
        assert_eq!(error_code(&response.json()).as_deref(), Some("BAD_REQUEST"));
    }
    let no_type = app.send(post_with(Some(JSON), None, TYPENAME)).await;
    assert_eq!(no_type.status, 415);
    let latin1 = app
        .send(post_with(
            Some(JSON),
            Some("application/json; charset=latin1"),
            TYPENAME,
        ))
        .await;
    assert_eq!(latin1.status, 415);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = open_introspection().await;
    let response = app
        .send(get("/graphql?query=query%20Q(%24n%3AString!)%7B__type(name%3A%24n)%7Bname%7D%7D&variables=%7B%22n%22%3A%22Query%22%7D", JSON))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["data"]["__type"]["name"], "Query");

    let mutation = app
        .send(get("/graphql?query=mutation%7B__typename%7D", GQL))
        .await;
    assert_eq!(mutation.status, 405);
    assert_eq!(mutation.headers.get("allow").unwrap(), "POST");

    let missing = app.send(get("/graphql", JSON)).await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn batches_are_answered_in_order_and_capped() {
    let app = TestApp::new().await;
    let batch = json!([{ "query": "{ __typename }" }, { "query": "query Named { __typename }", "operationName": "Named" }]);
    let response = app
        .send(post_with(Some(JSON), Some(JSON), &batch.to_string()))
        .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(body[1]["data"]["__typename"], "Query");

    let too_many: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let response = app
        .send(post_with(
            Some(JSON),
            Some(JSON),
            &Value::Array(too_many).to_string(),
        ))
        .await;
    assert_eq!(response.status, 400);
}

#[tokio::test]
async fn responses_keep_the_selection_order() {
    let app = TestApp::new().await;
    let body = json!({ "query": "{ b: __typename a: __typename }" }).to_string();
    let text = app
        .send(post_with(Some(JSON), Some(JSON), &body))
        .await
        .text();
    assert!(
        text.find("\"b\"").unwrap() < text.find("\"a\"").unwrap(),
        "{text}"
    );
}

const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

#[tokio::test]
async fn the_standard_introspection_query_fits_the_limits_but_abusive_queries_do_not() {
    let app = open_introspection().await;
    let response = app.gql(None, INTROSPECTION, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");

    let deep = format!(
        "{{ partners {{ edges {{ node {{ {} name {} }} }} }} }}",
        "parent { ".repeat(20),
        "} ".repeat(20)
    );
    let response = app.post(None, json!({ "query": deep })).await;
    assert_eq!(response.status, 400, "{}", response.text());
    let body = response.json();
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested too deep"), "{body}");
}

#[tokio::test]
async fn a_document_sent_again_is_checked_and_run_afresh() {
    // The server keeps parsed documents by their text: a repeat must still get its own
    // variables and its own limits.
    let app = open_introspection().await;
    let query = "query Q($n: String!) { __type(name: $n) { name } }";
    for name in ["Query", "Mutation", "Query"] {
        let response = app.gql(None, query, json!({ "n": name })).await;
        assert_eq!(response["data"]["__type"]["name"], name, "{response}");
    }
    let deep = format!(
        "{{ partners {{ edges {{ node {{ {} name {} }} }} }} }}",
        "parent { ".repeat(20),
        "} ".repeat(20)
    );
    for _ in 0..2 {
        let response = app.post(None, json!({ "query": deep })).await;
        assert_eq!(response.status, 400, "{}", response.text());
    }
    for _ in 0..2 {
        let response = app.post(None, json!({ "query": "{ __typename " })).await;
        assert_eq!(response.status, 400, "{}", response.text());
        let body = response.json();
        assert!(body["errors"][0]["message"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn a_request_that_passed_validation_is_validated_again_when_its_variables_change() {
    // A request seen to pass validation skips it the next time it comes exactly the same;
    // any other variable value is validated in full (an enum's value is part of it).
    let app = TestApp::demo().await;
    let token = app.login(MANAGER).await;
    let query = "query($s: DealStatus) { dealRegistrations(first: 1, filter: { status: $s }) {
        edges { node { status } } } }";
    for _ in 0..3 {
        let response = app
            .gql(Some(&token), query, json!({ "s": "SUBMITTED" }))
            .await;
        let edges = &response["data"]["dealRegistrations"]["edges"];
        assert_eq!(edges[0]["node"]["status"], "SUBMITTED", "{response}");
    }
    for _ in 0..2 {
        let response = app
            .post(
                Some(&token),
                json!({ "query": query, "variables": { "s": "BOGUS" } }),
            )
            .await;
        assert_eq!(response.status, 400, "{}", response.text());
        assert!(response.json()["data"].is_null(), "{}", response.text());
    }
    // The same document, operation and variables again, after them: still answered.
    let response = app
        .gql(Some(&token), query, json!({ "s": "SUBMITTED" }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    // A valid document that names an operation it does not hold is refused each time.
    for _ in 0..2 {
        let response = app
            .post(
                Some(&token),
                json!({ "query": query, "variables": { "s": "SUBMITTED" }, "operationName": "Other" }),
            )
            .await;
        assert_eq!(response.status, 400, "{}", response.text());
    }
}

#[tokio::test]
async fn graphiql_is_served_offline_by_the_server_itself() {
    let app = TestApp::new().await;
    let page = app
        .send(get(
            "/graphql",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.content_type().starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("graphiql"), "{html}");
    for attribute in ["src=\"", "href=\""] {
        for (index, _) in html.match_indices(attribute) {
            let url = &html[index + attribute.len()..];
            assert!(
                url.starts_with('/'),
                "asset not served locally: {}",
                &url[..40.min(url.len())]
            );
        }
    }
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        let response = app.send(get(&format!("/graphiql/{asset}"), "*/*")).await;
        assert_eq!(response.status, 200, "{asset}");
        assert!(
            response.body.len() > 500,
            "{asset} is empty: was npm available at build time?"
        );
    }
    let bundle = app
        .send(get("/graphiql/graphiql.min.js", "*/*"))
        .await
        .text();
    assert!(bundle.contains("GraphiQL"));
    assert_eq!(
        app.send(get("/graphiql/../../etc/passwd", "*/*"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn health_and_readiness_probes() {
    let app = TestApp::new().await;
    let health = app.send(get("/healthz", JSON)).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = app.send(get("/readyz", JSON)).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["database"], "ok");
    let missing = app.send(get("/nope", JSON)).await;
    assert_eq!(missing.status, 404);
    assert_eq!(error_code(&missing.json()).as_deref(), Some("NOT_FOUND"));
}

/// Keys of the JSON object at `path` in a response body, in the order they were written.
fn key_order(body: &[u8], path: &[&str]) -> Vec<String> {
    let value: Value = serde_json::from_slice(body).expect("JSON");
    let mut at = &value;
    for step in path {
        at = match step.parse::<usize>() {
            Ok(i) => &at[i],
            Err(_) => &at[*step],
        };
    }
    at.as_object()
        .unwrap_or_else(|| panic!("no object at {path:?} in {value}"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn response_fields_come_in_the_order_they_were_selected() {
    let app = TestApp::demo().await;
    let token = app.login(MANAGER).await;
    // `products` waits on a loader and `id` does not; roots come from different modules.
    for (query, path, expected) in [
        (
            "{ dealRegistrations(first: 2) { edges { node { products { name } id status } } } }",
            vec!["data", "dealRegistrations", "edges", "0", "node"],
            vec!["products", "id", "status"],
        ),
        (
            "{ partners(first: 1) { totalCount } me { id } }",
            vec!["data"],
            vec!["partners", "me"],
        ),
        (
            "{ me { id } partners(first: 1) { totalCount } }",
            vec!["data"],
            vec!["me", "partners"],
        ),
        (
            "query Q { me { ...Who } } fragment Who on User { role name id }",
            vec!["data", "me"],
            vec!["role", "name", "id"],
        ),
    ] {
        let response = app.post(Some(&token), json!({ "query": query })).await;
        assert_eq!(key_order(&response.body, &path), expected, "{query}");
    }
}

/// A server whose schema anyone may introspect (`--introspection on`).
async fn open_introspection() -> TestApp {
    TestApp::demo_with_http(partnergraph::config::HttpConfig {
        introspection: partnergraph::config::Introspection::On,
        ..Default::default()
    })
    .await
}
