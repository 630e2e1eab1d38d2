//! Bonuses and SPIFFs: awarded per won deal, decided and paid once.

use serde_json::json;

use crate::common::*;
use crate::incentives::{win, year};
use crate::mdf::usd;

#[tokio::test]
async fn bonuses_and_spiffs_are_awarded_per_won_deal_decided_and_paid_once() {
    let app = TestApp::demo().await;
    let (start, end) = year();
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let create = "mutation($i: CreateIncentiveRuleInput!) { createIncentiveRule(input: $i) { ruleId userErrors { field code } } }";
    let spiff = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Cloud SPIFF", "kind": "SPIFF", "amount": usd("500.00"), "productId": cloud, "periodStart": start, "periodEnd": end } }))
        .await;
    assert_eq!(
        spiff["data"]["createIncentiveRule"]["userErrors"],
        json!([]),
        "{spiff}"
    );
    let bonus = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Registration bonus", "kind": "REGISTRATION_BONUS", "rate": "0.05", "currency": "USD", "periodStart": start, "periodEnd": end } }))
        .await;
    assert_eq!(
        bonus["data"]["createIncentiveRule"]["userErrors"],
        json!([]),
        "{bonus}"
    );
    let bad = app.gql_as(MANAGER, create, json!({ "i": { "name": "x", "kind": "REGISTRATION_BONUS", "rate": "5", "periodStart": start, "periodEnd": end } })).await;
    assert_eq!(error_fields(&bad["data"]["createIncentiveRule"]), ["rate"]);

    win(&app, "Massive Dynamic", "60000.00").await;
    let list = "{ incentiveAwards { edges { node { id ruleName status amount { amount } dealRegistration { customer { name } } } } } }";
    let awards = app.gql_as(ALICE_NORTHWIND, list, json!({})).await["data"]["incentiveAwards"]
        ["edges"]
        .clone();
    let mut amounts: Vec<(String, String)> = awards
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["ruleName"].as_str().unwrap().to_owned(),
                e["node"]["amount"]["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    amounts.sort();
    assert_eq!(
        amounts,
        [
            ("Cloud SPIFF".to_string(), "500.00".to_string()),
            ("Registration bonus".to_string(), "3000.00".to_string())
        ]
    );
    assert!(awards
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["status"] == "PENDING"));
    let spiff_award = awards
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["ruleName"] == "Cloud SPIFF")
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bonus_award = awards
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["ruleName"] == "Registration bonus")
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let act = |name: &str| {
        format!("mutation($i: IncentiveAwardActionInput!) {{ {name}(input: $i) {{ incentiveAward {{ status reason }} userErrors {{ field code }} }} }}")
    };
    let no_reason = app
        .gql_as(
            MANAGER,
            &act("declineIncentiveAward"),
            json!({ "i": { "id": bonus_award } }),
        )
        .await;
    assert_eq!(
        error_fields(&no_reason["data"]["declineIncentiveAward"]),
        ["reason"]
    );
    let declined = app
        .gql_as(
            MANAGER,
            &act("declineIncentiveAward"),
            json!({ "i": { "id": bonus_award, "reason": "duplicate of a manual credit" } }),
        )
        .await;
    assert_eq!(
        declined["data"]["declineIncentiveAward"]["incentiveAward"]["status"],
        "DECLINED"
    );
    let by_partner = app
        .gql_as(
            ALICE_NORTHWIND,
            &act("approveIncentiveAward"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(error_code(&by_partner).as_deref(), Some("FORBIDDEN"));
    app.gql_as(
        MANAGER,
        &act("approveIncentiveAward"),
        json!({ "i": { "id": spiff_award } }),
    )
    .await;
    let paid = app
        .gql_as(
            MANAGER,
            &act("markIncentiveAwardPaid"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(
        paid["data"]["markIncentiveAwardPaid"]["incentiveAward"]["status"], "PAID",
        "{paid}"
    );
    let twice = app
        .gql_as(
            MANAGER,
            &act("markIncentiveAwardPaid"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(
        error_codes(&twice["data"]["markIncentiveAwardPaid"]),
        ["ILLEGAL_TRANSITION"]
    );
    let other = app.gql_as(BOB_TIERTWO, list, json!({})).await;
    assert_eq!(
        other["data"]["incentiveAwards"]["edges"],
        json!([]),
        "partners see only their own awards"
    );
}
