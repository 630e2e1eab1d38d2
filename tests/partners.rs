use serde_json::json;

use crate::common::*;

const PARTNERS: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  partners(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name type status parent { name } } }
  }
}";

async fn visible_partners(app: &TestApp, email: &str) -> serde_json::Value {
    let token = app.login(email).await;
    let response = app
        .gql(Some(&token), PARTNERS, json!({ "first": 50 }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"]["partners"].clone()
}

#[tokio::test]
async fn each_role_sees_exactly_the_organisations_it_may() {
    let app = TestApp::demo().await;

    let manager = visible_partners(&app, MANAGER).await;
    assert!(manager["totalCount"].as_i64().unwrap() >= 3);
    assert_eq!(manager["totalCount"], 6);
    assert_eq!(edge_names(&manager).len(), 6);

    let rep = visible_partners(&app, REP).await;
    assert_eq!(rep["totalCount"], 6);

    let northwind = visible_partners(&app, ALICE_NORTHWIND).await;
    assert_eq!(northwind["totalCount"], 1);
    assert_eq!(edge_names(&northwind), ["Northwind"]);

    let tiertwo = visible_partners(&app, BOB_TIERTWO).await;
    assert_eq!(tiertwo["totalCount"], 1);
    assert_eq!(edge_names(&tiertwo), ["TierTwo"]);

    // A distributor sees itself and its tier-two partners, not unrelated ones.
    let summit = visible_partners(&app, DAVE_SUMMIT).await;
    assert!(summit["totalCount"].as_i64().unwrap() >= 2);
    let mut names = edge_names(&summit);
    names.sort();
    assert_eq!(
        names,
        ["Alpine Referrals", "Summit Distribution", "TierTwo"]
    );
}

#[tokio::test]
async fn invisible_partners_answer_as_null_everywhere() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let tiertwo = partner_id(&app, "TierTwo").await;
    let bob = app.login(BOB_TIERTWO).await;

    let query = "query($id: ID!) { node(id: $id) { id ... on Partner { name } } partner(id: $id) { name } }";
    let hidden = app.gql(Some(&bob), query, json!({ "id": northwind })).await;
    assert!(hidden.get("errors").is_none(), "{hidden}");
    assert!(hidden["data"]["node"].is_null());
    assert!(hidden["data"]["partner"].is_null());

    let own = app.gql(Some(&bob), query, json!({ "id": tiertwo })).await;
    assert_eq!(own["data"]["node"]["name"], "TierTwo");
    assert_eq!(own["data"]["partner"]["name"], "TierTwo");

    // A nonexistent id looks exactly like an invisible one.
    let missing = app
        .gql(Some(&bob), query, json!({ "id": "UGFydG5lcjo5OTk5" }))
        .await;
    assert_eq!(missing, hidden);
    let garbage = app.gql(Some(&bob), query, json!({ "id": "%%%" })).await;
    assert_eq!(garbage, hidden);

    let manager = app.login(MANAGER).await;
    let seen = app
        .gql(Some(&manager), query, json!({ "id": northwind }))
        .await;
    assert_eq!(seen["data"]["node"]["name"], "Northwind");
}

#[tokio::test]
async fn a_distributor_reaches_its_tier_two_partners_but_not_the_reverse() {
    let app = TestApp::demo().await;
    let tiertwo = partner_id(&app, "TierTwo").await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let query = "query($id: ID!) { partner(id: $id) { name parent { name } } }";

    let dave = app.login(DAVE_SUMMIT).await;
    let below = app.gql(Some(&dave), query, json!({ "id": tiertwo })).await;
    assert_eq!(
        below["data"]["partner"]["parent"]["name"],
        "Summit Distribution"
    );

    // The tier-two partner sees itself, but not its distributor.
    let bob = app.login(BOB_TIERTWO).await;
    let above = app.gql(Some(&bob), query, json!({ "id": summit })).await;
    assert!(above["data"]["partner"].is_null());
    let own = app.gql(Some(&bob), query, json!({ "id": tiertwo })).await;
    assert_eq!(own["data"]["partner"]["name"], "TierTwo");
    assert!(own["data"]["partner"]["parent"].is_null());
}

#[tokio::test]
async fn users_are_visible_only_within_the_partner_scope() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let dave = app.login(DAVE_SUMMIT).await;
    let bob = app.login(BOB_TIERTWO).await;
    let id_of = |token: String| {
        let app = &app;
        async move {
            app.gql(Some(&token), "{ me { id } }", json!({})).await["data"]["me"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let bob_id = id_of(bob.clone()).await;
    let manager_id = id_of(manager.clone()).await;
    let query = "query($id: ID!) { node(id: $id) { ... on User { email partner { name } } } }";

    let by_alice = app.gql(Some(&alice), query, json!({ "id": bob_id })).await;
    assert!(by_alice["data"]["node"].is_null());
    let by_dave = app.gql(Some(&dave), query, json!({ "id": bob_id })).await;
    assert_eq!(by_dave["data"]["node"]["email"], BOB_TIERTWO);
    assert_eq!(by_dave["data"]["node"]["partner"]["name"], "TierTwo");
    let staff_by_bob = app
        .gql(Some(&bob), query, json!({ "id": manager_id }))
        .await;
    assert!(staff_by_bob["data"]["node"].is_null());
    let by_manager = app
        .gql(Some(&manager), query, json!({ "id": bob_id }))
        .await;
    assert_eq!(by_manager["data"]["node"]["email"], BOB_TIERTWO);
}

#[tokio::test]
async fn partners_page_forward_and_backward_with_cursors() {
    let app = TestApp::demo().await;
    let token = app.login(MANAGER).await;
    let all = app
        .gql(Some(&token), PARTNERS, json!({ "first": 100 }))
        .await["data"]["partners"]
        .clone();
    let all_names = edge_names(&all);
    assert_eq!(all_names.len(), 6);

    let page1 =
        app.gql(Some(&token), PARTNERS, json!({ "first": 4 })).await["data"]["partners"].clone();
    assert_eq!(edge_names(&page1), all_names[..4]);
    assert_eq!(page1["pageInfo"]["hasNextPage"], true);
    assert_eq!(page1["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(page1["totalCount"], 6);

    let after = page1["pageInfo"]["endCursor"].clone();
    let page2 = app
        .gql(
            Some(&token),
            PARTNERS,
            json!({ "first": 4, "after": after }),
        )
        .await["data"]["partners"]
        .clone();
    assert_eq!(edge_names(&page2), all_names[4..]);
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    assert_eq!(page2["pageInfo"]["hasPreviousPage"], true);

    let last =
        app.gql(Some(&token), PARTNERS, json!({ "last": 2 })).await["data"]["partners"].clone();
    assert_eq!(edge_names(&last), all_names[4..]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);

    let before = page2["edges"][0]["cursor"].clone();
    let back = app
        .gql(
            Some(&token),
            PARTNERS,
            json!({ "last": 2, "before": before }),
        )
        .await["data"]["partners"]
        .clone();
    assert_eq!(edge_names(&back), all_names[2..4]);
}

#[tokio::test]
async fn bad_pagination_arguments_are_bad_user_input() {
    let app = TestApp::demo().await;
    let token = app.login(MANAGER).await;
    for variables in [
        json!({ "first": 101 }),
        json!({ "first": -1 }),
        json!({ "first": 1, "last": 1 }),
        json!({ "first": 1, "after": "not-a-cursor" }),
    ] {
        let response = app.gql(Some(&token), PARTNERS, variables.clone()).await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{variables}: {response}"
        );
    }
}

#[tokio::test]
async fn nested_partners_load_in_batches() {
    // Every partner's parent resolves through one DataLoader batch; the answer must stay
    // consistent with a direct lookup.
    let app = TestApp::demo().await;
    let token = app.login(MANAGER).await;
    let response = app
        .gql(
            Some(&token),
            "{ partners(first: 50) { edges { node { name parent { name parent { name } } } } } }",
            json!({}),
        )
        .await;
    let edges = response["data"]["partners"]["edges"].as_array().unwrap();
    let parent_of = |name: &str| {
        edges.iter().find(|e| e["node"]["name"] == name).unwrap()["node"]["parent"]["name"].clone()
    };
    assert_eq!(parent_of("TierTwo"), "Summit Distribution");
    assert_eq!(parent_of("Alpine Referrals"), "Summit Distribution");
    assert!(parent_of("Northwind").is_null());
}
