//! Direct opportunities and partner influence: a rep's own deals, visible to the partners
//! that influenced them, and counted as influenced revenue when won.

use serde_json::{json, Value};

use crate::common::*;

const CREATE: &str =
    "mutation($i: CreateDirectOpportunityInput!){ createDirectOpportunity(input: $i){
    directOpportunity { id name stage status allowedTransitions amount { amount currency } version
                        account { name } accountName }
    userErrors { field code } } }";
const UPDATE: &str =
    "mutation($i: UpdateDirectOpportunityInput!){ updateDirectOpportunity(input: $i){
    directOpportunity { id stage closedAt allowedTransitions version
                        history(first: 10) { edges { node { fromStage toStage } } } }
    userErrors { field code } } }";
const INFLUENCE: &str =
    "mutation($i: OpportunityInfluenceInput!){ addOpportunityInfluence(input: $i){
    directOpportunity { id } userErrors { field code } } }";

async fn initech(app: &TestApp) -> String {
    id_in(
        app,
        "{ accounts(first: 50) { edges { node { id name } } } }",
        "accounts",
        "name",
        "Initech",
    )
    .await
}

async fn opportunity_count(app: &TestApp, token: &str) -> i64 {
    let listed = app
        .gql(
            Some(token),
            "{ directOpportunities { totalCount } }",
            json!({}),
        )
        .await;
    listed["data"]["directOpportunities"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{listed}"))
}

fn new_opportunity(account: &str, key: &str, amount: &str) -> Value {
    json!({ "i": { "accountId": account, "name": "Initech data platform", "closeDate": "2027-03-31",
                   "amount": { "amount": amount, "currency": "USD" }, "idempotencyKey": key } })
}

#[tokio::test]
async fn a_rep_runs_an_opportunity_that_a_partner_influenced() {
    let app = TestApp::demo().await;
    let rep = app.login(REP).await;
    let manager = app.login(MANAGER).await;
    let account = initech(&app).await;
    let created = app
        .gql(
            Some(&rep),
            CREATE,
            new_opportunity(&account, "crm-42", "250000"),
        )
        .await;
    let opp = &created["data"]["createDirectOpportunity"]["directOpportunity"];
    assert_eq!(opp["stage"], "PROSPECTING", "{created}");
    assert_eq!(opp["status"], "PROSPECTING");
    assert_eq!(opp["account"]["name"], "Initech");
    assert!(opp["allowedTransitions"]
        .as_array()
        .unwrap()
        .contains(&json!("WON")));
    let id = opp["id"].as_str().unwrap().to_owned();
    // The same key again: the same opportunity; another payload under it: refused.
    let replay = app
        .gql(
            Some(&rep),
            CREATE,
            new_opportunity(&account, "crm-42", "250000"),
        )
        .await;
    assert_eq!(
        replay["data"]["createDirectOpportunity"]["directOpportunity"]["id"],
        id
    );
    let clash = app
        .gql(Some(&rep), CREATE, new_opportunity(&account, "crm-42", "1"))
        .await;
    assert_eq!(
        error_codes(&clash["data"]["createDirectOpportunity"]),
        vec!["TAKEN"]
    );

    let northwind = partner_id(&app, "Northwind").await;
    let added = app
        .gql(
            Some(&rep),
            INFLUENCE,
            json!({ "i": { "opportunityId": id, "partnerId": northwind, "role": "REFERRAL" } }),
        )
        .await;
    assert_eq!(
        added["data"]["addOpportunityInfluence"]["userErrors"],
        json!([]),
        "{added}"
    );
    let twice = app
        .gql(
            Some(&manager),
            INFLUENCE,
            json!({ "i": { "opportunityId": id, "partnerId": northwind, "role": "CO_SELL" } }),
        )
        .await;
    assert_eq!(
        error_codes(&twice["data"]["addOpportunityInfluence"]),
        vec!["TAKEN"]
    );

    // Northwind sees what it influenced, its own record only, without the account.
    let alice = app.login(ALICE_NORTHWIND).await;
    let seen = app
        .gql(
            Some(&alice),
            "query($id: ID!){ node(id: $id) { ... on DirectOpportunity { name accountName account { name }
               allowedTransitions influences { edges { node { role partner { name } } } } } } }",
            json!({ "id": id }),
        )
        .await;
    let node = &seen["data"]["node"];
    assert_eq!(node["accountName"], "Initech", "{seen}");
    assert!(node["account"].is_null());
    assert_eq!(node["allowedTransitions"], json!([]));
    assert_eq!(
        node["influences"]["edges"].as_array().map(Vec::len),
        Some(1),
        "{seen}"
    );
    assert_eq!(node["influences"]["edges"][0]["node"]["role"], "REFERRAL");
    // Bob (TierTwo) influenced nothing: he sees none of it.
    let bob = app.login(BOB_TIERTWO).await;
    let hidden = app
        .gql(
            Some(&bob),
            "query($id: ID!){ node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(hidden["data"]["node"].is_null());
    assert_eq!(opportunity_count(&app, &bob).await, 0);
    // A partner changes nothing of it.
    let refused = app
        .gql(
            Some(&alice),
            UPDATE,
            json!({ "i": { "id": id, "stage": "WON" } }),
        )
        .await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );

    // Won: closed, its history appended, its amount Northwind's influenced revenue.
    let period = json!({ "from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z",
                         "filter": { "partnerIds": [northwind] } });
    let query = "query($i: ChannelMetricsInput!){ channelMetrics(input: $i){ influencedRevenue { amount currency } } }";
    let before = app.gql(Some(&manager), query, json!({ "i": period })).await;
    let closed_at = chrono::Utc::now() - chrono::Duration::days(1);
    let won = app
        .gql(
            Some(&rep),
            UPDATE,
            json!({ "i": { "id": id, "stage": "WON", "version": 1, "closedAt": closed_at.to_rfc3339() } }),
        )
        .await;
    let payload = &won["data"]["updateDirectOpportunity"];
    assert_eq!(payload["userErrors"], json!([]), "{won}");
    assert_eq!(
        payload["directOpportunity"]["allowedTransitions"],
        json!([])
    );
    let history = &payload["directOpportunity"]["history"]["edges"];
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[1]["node"]["toStage"], "WON");
    let after = app.gql(Some(&manager), query, json!({ "i": period })).await;
    let amount = |v: &Value| -> rust_decimal::Decimal {
        v["data"]["channelMetrics"]["influencedRevenue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["currency"] == "USD")
            .map(|m| m["amount"].as_str().unwrap().parse().unwrap())
            .unwrap_or_default()
    };
    assert_eq!(
        amount(&after) - amount(&before),
        rust_decimal::Decimal::from(250_000)
    );
    let again = app
        .gql(
            Some(&rep),
            UPDATE,
            json!({ "i": { "id": id, "stage": "LOST" } }),
        )
        .await;
    assert_eq!(
        error_codes(&again["data"]["updateDirectOpportunity"]),
        vec!["ILLEGAL_TRANSITION"]
    );
}

#[tokio::test]
async fn bad_opportunities_are_user_errors_and_partners_cannot_create() {
    let app = TestApp::demo().await;
    let rep = app.login(REP).await;
    let account = initech(&app).await;
    let before = opportunity_count(&app, &rep).await;
    let northwind = partner_id(&app, "Northwind").await;
    for (input, field) in [
        (
            json!({ "accountId": account, "name": "  ", "closeDate": "2027-01-01",
                 "amount": { "amount": "10", "currency": "USD" } }),
            "name",
        ),
        (
            json!({ "accountId": account, "name": "x", "closeDate": "2027-01-01",
                 "amount": { "amount": "-10", "currency": "USD" } }),
            "amount",
        ),
        (
            json!({ "accountId": account, "name": "x", "closeDate": "2027-01-01",
                 "amount": { "amount": "10", "currency": "XXX" } }),
            "amount",
        ),
        (
            json!({ "accountId": northwind, "name": "x", "closeDate": "2027-01-01",
                 "amount": { "amount": "10", "currency": "USD" } }),
            "accountId",
        ),
        (
            json!({ "accountId": account, "name": "x".repeat(201), "closeDate": "2027-01-01",
                 "amount": { "amount": "10", "currency": "USD" } }),
            "name",
        ),
        (
            json!({ "accountId": account, "name": "x", "closeDate": "2027-01-01", "stage": "WON",
                 "amount": { "amount": "10", "currency": "USD" } }),
            "stage",
        ),
    ] {
        let refused = app.gql(Some(&rep), CREATE, json!({ "i": input })).await;
        let payload = &refused["data"]["createDirectOpportunity"];
        assert!(payload["directOpportunity"].is_null(), "{refused}");
        assert!(
            error_fields(payload).contains(&field.to_owned()),
            "{refused}"
        );
    }
    // A manager must name the owning rep.
    let manager = app.login(MANAGER).await;
    let unowned = app
        .gql(
            Some(&manager),
            CREATE,
            new_opportunity(&account, "m-1", "10"),
        )
        .await;
    assert_eq!(
        error_fields(&unowned["data"]["createDirectOpportunity"]),
        vec!["ownerId"]
    );
    assert_eq!(opportunity_count(&app, &rep).await, before);
    let alice = app.login(ALICE_NORTHWIND).await;
    let forbidden = app
        .gql(Some(&alice), CREATE, new_opportunity(&account, "p-1", "10"))
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
    let anonymous = app
        .gql(None, CREATE, new_opportunity(&account, "a-1", "10"))
        .await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
}
