use chrono::{Duration, Utc};
use partnergraph::auth::jwt::JwtKeys;
use partnergraph::config::AuthConfig;
use serde_json::json;

use crate::common::*;

const ME: &str = "{ me { id email role partner { name } } }";

#[tokio::test]
async fn every_demo_login_works_and_me_reports_its_role() {
    let app = TestApp::demo().await;
    let expected = [
        (MANAGER, "CHANNEL_MANAGER", None),
        (REP, "DIRECT_REP", None),
        (ALICE_NORTHWIND, "PARTNER", Some("Northwind")),
        (DAVE_SUMMIT, "PARTNER", Some("Summit Distribution")),
        (BOB_TIERTWO, "PARTNER", Some("TierTwo")),
    ];
    for (email, role, partner) in expected {
        let login = app
            .gql(
                None,
                LOGIN,
                json!({ "i": { "email": email, "password": DEMO_PASSWORD } }),
            )
            .await;
        assert_eq!(login["data"]["login"]["user"]["role"], role, "{login}");
        assert!(login.get("errors").is_none(), "{login}");
        // The payload's user is the caller itself, so its organisation is visible at once.
        assert_eq!(
            login["data"]["login"]["user"]["partner"]["name"].as_str(),
            partner
        );
        let token = login["data"]["login"]["accessToken"]
            .as_str()
            .expect("token");
        let me = app.gql(Some(token), ME, json!({})).await;
        assert_eq!(me["data"]["me"]["role"], role);
        assert_eq!(me["data"]["me"]["email"], email);
        assert_eq!(me["data"]["me"]["id"], login["data"]["login"]["user"]["id"]);
        assert_eq!(me["data"]["me"]["partner"]["name"].as_str(), partner);
    }
}

#[tokio::test]
async fn email_is_matched_case_insensitively() {
    let app = TestApp::demo().await;
    let token = login_on(&app.router, "  Manager@Vendor.Example ", DEMO_PASSWORD).await;
    let me = app.gql(Some(&token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], MANAGER);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_unauthenticated_answer() {
    let app = TestApp::demo().await;
    let wrong = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": MANAGER, "password": "not-the-password" } }),
        )
        .await;
    let unknown = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": "nobody@vendor.example", "password": "not-the-password" } }),
        )
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(error_code(&unknown).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(wrong["data"]["login"].is_null());
}

#[tokio::test]
async fn blank_credentials_are_user_errors() {
    let app = TestApp::new().await;
    let response = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": " ", "password": "" } }),
        )
        .await;
    let errors = response["data"]["login"]["userErrors"]
        .as_array()
        .expect("userErrors");
    let fields: Vec<_> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);
    assert!(errors.iter().all(|e| e["code"] == "REQUIRED"));
    assert!(response["data"]["login"]["accessToken"].is_null());
}

#[tokio::test]
async fn anonymous_callers_get_unauthenticated_for_protected_fields() {
    let app = TestApp::demo().await;
    let response = app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
    let response = app
        .gql(None, "{ partners(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
    // Public fields still work anonymously.
    let response = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(response["data"]["__typename"], "Query");
}

async fn assert_token_rejected(app: &TestApp, token: &str) {
    let response = app
        .post(Some(token), json!({ "query": "{ me { id } }" }))
        .await;
    assert_eq!(response.status, 401, "{}", response.text());
    assert_eq!(response.headers.get("www-authenticate").unwrap(), "Bearer");
    let body = response.json();
    assert_eq!(
        error_code(&body).as_deref(),
        Some("UNAUTHENTICATED"),
        "{body}"
    );
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn tampered_forged_expired_and_malformed_tokens_are_unauthenticated() {
    let app = TestApp::demo().await;
    let token = app.login(ALICE_NORTHWIND).await;

    // Change one character of the payload: the signature no longer matches.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    assert_token_rejected(&app, &parts.join(".")).await;

    // Signed with another secret.
    let config = AuthConfig::default();
    let foreign = JwtKeys::new(
        b"some-other-secret-of-sufficient-len",
        &config.issuer,
        &config.audience,
        config.access_token_ttl,
    );
    let (forged, _) = foreign.issue(1, 1).unwrap();
    assert_token_rejected(&app, &forged).await;

    // Right secret, expired an hour ago.
    let ours = JwtKeys::new(
        test_auth_config().jwt_secret.unwrap().as_bytes(),
        &config.issuer,
        &config.audience,
        config.access_token_ttl,
    );
    let expired = ours
        .issue_until(1, 1, Utc::now() - Duration::hours(1))
        .unwrap();
    assert_token_rejected(&app, &expired).await;

    // Unsigned (`alg: none`) and plain garbage.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    assert_token_rejected(&app, &unsigned).await;
    assert_token_rejected(&app, "garbage").await;

    // A scheme other than Bearer.
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Basic {token}"))
        .body(axum::body::Body::from(
            json!({ "query": "{ me { id } }" }).to_string(),
        ))
        .unwrap();
    assert_eq!(app.send(request).await.status, 401);
}

#[tokio::test]
async fn a_valid_token_for_a_session_that_never_existed_is_refused() {
    let app = TestApp::demo().await;
    let config = AuthConfig::default();
    let ours = JwtKeys::new(
        test_auth_config().jwt_secret.unwrap().as_bytes(),
        &config.issuer,
        &config.audience,
        config.access_token_ttl,
    );
    let (token, _) = ours.issue(1, 999_999).unwrap();
    assert_token_rejected(&app, &token).await;
}

const REFRESH: &str = "mutation($i: RefreshSessionInput!){ refreshSession(input: $i){ accessToken refreshToken user { email } } }";

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_ends_the_session() {
    let app = TestApp::demo().await;
    let login = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": ALICE_NORTHWIND, "password": DEMO_PASSWORD } }),
        )
        .await;
    let first_refresh = login["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated = app
        .gql(
            None,
            REFRESH,
            json!({ "i": { "refreshToken": first_refresh } }),
        )
        .await;
    let second_refresh = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        rotated["data"]["refreshSession"]["user"]["email"],
        ALICE_NORTHWIND
    );
    let me = app.gql(Some(&new_access), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], ALICE_NORTHWIND);

    // Replaying the rotated token is refused and revokes the session it belonged to.
    let replay = app
        .gql(
            None,
            REFRESH,
            json!({ "i": { "refreshToken": first_refresh } }),
        )
        .await;
    assert_eq!(error_code(&replay).as_deref(), Some("UNAUTHENTICATED"));
    let after = app
        .gql(
            None,
            REFRESH,
            json!({ "i": { "refreshToken": second_refresh } }),
        )
        .await;
    assert_eq!(error_code(&after).as_deref(), Some("UNAUTHENTICATED"));
    assert_token_rejected(&app, &new_access).await;

    let unknown = app
        .gql(None, REFRESH, json!({ "i": { "refreshToken": "made-up" } }))
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = TestApp::demo().await;
    let token = app.login(DAVE_SUMMIT).await;
    let other_device = app.login(DAVE_SUMMIT).await;
    let response = app
        .gql(
            Some(&token),
            "mutation { logout { sessionsEnded userErrors { message } } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["logout"]["sessionsEnded"], 1);
    assert_token_rejected(&app, &token).await;
    // Only that session ended.
    let me = app.gql(Some(&other_device), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], DAVE_SUMMIT);

    let everywhere = app
        .gql(
            Some(&other_device),
            "mutation { logout(input: { everywhere: true }) { sessionsEnded } }",
            json!({}),
        )
        .await;
    assert_eq!(everywhere["data"]["logout"]["sessionsEnded"], 1);
    assert_token_rejected(&app, &other_device).await;
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_even_with_the_right_password() {
    let app = TestApp::demo().await;
    let limit = test_auth_config().throttle.free_failures_per_client;
    for _ in 0..limit {
        let response = app
            .gql(
                None,
                LOGIN,
                json!({ "i": { "email": REP, "password": "guessing-wrong" } }),
            )
            .await;
        assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
    }
    let response = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": REP, "password": DEMO_PASSWORD } }),
        )
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("RATE_LIMITED"),
        "{response}"
    );
    // Other accounts are unaffected.
    app.login(MANAGER).await;
}

#[tokio::test]
async fn two_replicas_share_signing_keys_and_the_login_throttle() {
    // No configured secret: the replicas must agree on one through the database.
    let shared = AuthConfig {
        jwt_secret: None,
        ..test_auth_config()
    };
    let app = TestApp::with_auth(shared.clone()).await;
    partnergraph::demo::seed(&app.db).await.unwrap();
    let other = app.replica(shared).await;

    let token = login_on(&app.router, ALICE_NORTHWIND, DEMO_PASSWORD).await;
    let me = gql_on(&other, Some(&token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], ALICE_NORTHWIND);

    // Failures spread over both replicas still add up.
    let limit = test_auth_config().throttle.free_failures_per_client;
    for attempt in 0..limit {
        let router = if attempt % 2 == 0 {
            &app.router
        } else {
            &other
        };
        gql_on(
            router,
            None,
            LOGIN,
            json!({ "i": { "email": BOB_TIERTWO, "password": "wrong-guess!" } }),
        )
        .await;
    }
    let response = gql_on(
        &other,
        None,
        LOGIN,
        json!({ "i": { "email": BOB_TIERTWO, "password": DEMO_PASSWORD } }),
    )
    .await;
    assert_eq!(error_code(&response).as_deref(), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters() {
    use sea_orm::EntityTrait;
    let app = TestApp::demo().await;
    let users = entity::user::Entity::find().all(&app.db).await.unwrap();
    assert!(!users.is_empty());
    for user in users {
        assert!(
            user.password_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            user.password_hash
        );
    }
}
