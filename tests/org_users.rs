//! A partner organisation's users: its admins manage its own users only, and a deactivated
//! user's sessions end at once.

use serde_json::json;

use crate::common::*;
use crate::program::CREATE_USER;

#[tokio::test]
async fn organisation_admins_manage_their_own_users_only() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let input = |partner: &str, email: &str| json!({ "i": { "email": email, "name": "New", "role": "PARTNER", "partnerId": partner, "password": "a-good-long-password" } });

    let by_admin = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_USER,
            input(&northwind, "new@northwind.example"),
        )
        .await;
    assert_eq!(
        by_admin["data"]["createUser"]["userErrors"],
        json!([]),
        "{by_admin}"
    );
    let elsewhere = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_USER,
            input(&summit, "x@summit.example"),
        )
        .await;
    assert_eq!(error_code(&elsewhere).as_deref(), Some("FORBIDDEN"));
    let staff = app
        .gql_as(ALICE_NORTHWIND, CREATE_USER, json!({ "i": { "email": "boss@vendor.example", "name": "B", "role": "CHANNEL_MANAGER", "password": "a-good-long-password" } }))
        .await;
    assert_eq!(error_code(&staff).as_deref(), Some("FORBIDDEN"));
    let member = login_on(&app.router, "new@northwind.example", "a-good-long-password").await;
    let not_admin = app
        .gql(
            Some(&member),
            CREATE_USER,
            input(&northwind, "y@northwind.example"),
        )
        .await;
    assert_eq!(error_code(&not_admin).as_deref(), Some("FORBIDDEN"));

    let duplicate = app
        .gql_as(MANAGER, CREATE_USER, input(&northwind, ALICE_NORTHWIND))
        .await;
    assert_eq!(error_fields(&duplicate["data"]["createUser"]), ["email"]);
    assert_eq!(error_codes(&duplicate["data"]["createUser"]), ["TAKEN"]);
    let weak = app
        .gql_as(
            MANAGER,
            CREATE_USER,
            json!({ "i": { "email": "bad", "name": " ", "role": "PARTNER", "password": "short" } }),
        )
        .await;
    let mut fields = error_fields(&weak["data"]["createUser"]);
    fields.sort();
    assert_eq!(fields, ["email", "name", "partnerId", "password"]);
}

#[tokio::test]
async fn deactivating_a_user_revokes_its_sessions_at_once() {
    let app = TestApp::demo().await;
    let bob_token = app.login(BOB_TIERTWO).await;
    let bob = user_id(&app, BOB_TIERTWO).await;
    let deactivate = "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { isActive deactivatedAt } userErrors { field code } } }";

    let hidden = app
        .gql_as(ALICE_NORTHWIND, deactivate, json!({ "i": { "id": bob } }))
        .await;
    assert_eq!(
        error_codes(&hidden["data"]["deactivateUser"]),
        ["NOT_FOUND"],
        "alice cannot see bob"
    );
    let dave_not_allowed = app
        .gql_as(DAVE_SUMMIT, deactivate, json!({ "i": { "id": bob } }))
        .await;
    assert_eq!(
        error_code(&dave_not_allowed).as_deref(),
        Some("FORBIDDEN"),
        "an org admin manages its own organisation only"
    );

    let done = app
        .gql_as(MANAGER, deactivate, json!({ "i": { "id": bob } }))
        .await;
    assert_eq!(
        done["data"]["deactivateUser"]["user"]["isActive"], false,
        "{done}"
    );
    assert!(done["data"]["deactivateUser"]["user"]["deactivatedAt"].is_string());
    assert_eq!(
        app.post(Some(&bob_token), json!({ "query": "{ me { id } }" }))
            .await
            .status,
        401
    );
    let login = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": BOB_TIERTWO, "password": DEMO_PASSWORD } }),
        )
        .await;
    assert_eq!(error_code(&login).as_deref(), Some("UNAUTHENTICATED"));

    let reactivate =
        "mutation($i: DeactivateUserInput!) { reactivateUser(input: $i) { user { isActive } } }";
    app.gql_as(MANAGER, reactivate, json!({ "i": { "id": bob } }))
        .await;
    app.login(BOB_TIERTWO).await;
}
