//! Recruitment: the explainable fit score, ranking, re-weighting and conversion.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

const PROSPECTS: &str = "{ prospects(first: 20) { totalCount edges { node { id name status
  fitScore { total criteria { criterion { key label } value rated weight contribution } } } } } }";

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {value}")),
    )
    .unwrap()
}

fn ranked(response: &Value) -> Vec<(String, Decimal)> {
    response["data"]["prospects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["name"].as_str().unwrap().to_owned(),
                dec(&e["node"]["fitScore"]["total"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn prospects_are_ranked_by_an_explainable_fit_score() {
    let app = TestApp::demo().await;
    let response = app.gql_as(MANAGER, PROSPECTS, json!({})).await;
    let ranking = ranked(&response);
    assert_eq!(ranking.len(), 4);
    assert!(
        ranking.windows(2).all(|w| w[0].1 >= w[1].1),
        "best fit first: {ranking:?}"
    );
    assert_eq!(ranking[0].0, "Initrode Systems");

    for edge in response["data"]["prospects"]["edges"].as_array().unwrap() {
        let score = &edge["node"]["fitScore"];
        let criteria = score["criteria"].as_array().unwrap();
        assert_eq!(criteria.len(), 7);
        let weights: i64 = criteria.iter().map(|c| c["weight"].as_i64().unwrap()).sum();
        let mut sum = Decimal::ZERO;
        for c in criteria {
            // contribution = value × weight × 10 / Σ weights, to two places
            let expected =
                Decimal::from(c["value"].as_i64().unwrap() * c["weight"].as_i64().unwrap() * 10)
                    / Decimal::from(weights);
            assert_eq!(dec(&c["contribution"]), expected.round_dp(2), "{c}");
            sum += dec(&c["contribution"]);
        }
        assert_eq!(
            sum,
            dec(&score["total"]),
            "the total is the sum of its parts"
        );
    }
    // Initrode: Σ rating × weight = 8·20 + 9·15 + 7·15 + 6·10 + 8·15 + 7·15 + 9·10 = 775,
    // × 10 / Σ weights (100) = 77.5.
    assert_eq!(ranking[0].1, Decimal::from_str("77.5").unwrap());
}

#[tokio::test]
async fn reweighting_the_profile_rescores_and_reranks() {
    let app = TestApp::demo().await;
    let set = "mutation($i: SetIdealPartnerProfileInput!) { setIdealPartnerProfile(input: $i) { criteria { key weight } userErrors { field code } } }";
    // Only technical capability counts now: Pied Piper (10) leads.
    let profile = json!({ "i": { "criteria": [
        { "key": "technical_capability", "label": "Technical capability", "weight": 100 },
        { "key": "market_reach", "label": "Market reach", "weight": 0 }
    ] } });
    let result = app.gql_as(MANAGER, set, profile).await;
    assert_eq!(
        result["data"]["setIdealPartnerProfile"]["userErrors"],
        json!([]),
        "{result}"
    );
    let ranking = ranked(&app.gql_as(MANAGER, PROSPECTS, json!({})).await);
    assert_eq!(
        ranking[0],
        ("Pied Piper Integrations".to_owned(), Decimal::from(100))
    );

    let bad = json!({ "i": { "criteria": [
        { "key": "Bad Key", "label": "x", "weight": 10 },
        { "key": "ok", "label": " ", "weight": 101 }
    ] } });
    let rejected = app.gql_as(MANAGER, set, bad).await;
    let fields = error_fields(&rejected["data"]["setIdealPartnerProfile"]);
    assert_eq!(
        fields,
        ["criteria.0.key", "criteria.1.label", "criteria.1.weight"]
    );
    let unchanged = app
        .gql_as(MANAGER, "{ idealPartnerProfile { key } }", json!({}))
        .await;
    assert_eq!(
        unchanged["data"]["idealPartnerProfile"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "a refused profile changes nothing"
    );
}

#[tokio::test]
async fn prospects_are_internal_to_the_vendor() {
    let app = TestApp::demo().await;
    let denied = app.gql_as(DAVE_SUMMIT, PROSPECTS, json!({})).await;
    assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"));
    let profile = app
        .gql_as(
            ALICE_NORTHWIND,
            "{ idealPartnerProfile { key } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&profile).as_deref(), Some("FORBIDDEN"));
    let rep = app.gql_as(REP, PROSPECTS, json!({})).await;
    assert_eq!(
        rep["data"]["prospects"]["totalCount"], 4,
        "direct reps read prospects"
    );
    let id = rep["data"]["prospects"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let node = app
        .gql_as(
            ALICE_NORTHWIND,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(node["data"]["node"].is_null());
    let create = "mutation($i: ProspectInput!) { createProspect(input: $i) { prospect { id } } }";
    let by_rep = app
        .gql_as(REP, create, json!({ "i": { "name": "X" } }))
        .await;
    assert_eq!(error_code(&by_rep).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn creating_rating_and_converting_a_prospect() {
    let app = TestApp::demo().await;
    let create = "mutation($i: ProspectInput!) { createProspect(input: $i) { prospect { id status fitScore { total } } userErrors { field code } } }";
    let bad = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Globex Partners", "ratings": [{ "criterionKey": "nope", "value": 5 }, { "criterionKey": "market_reach", "value": 11 }] } }))
        .await;
    assert_eq!(
        error_fields(&bad["data"]["createProspect"]),
        ["ratings.0.criterionKey", "ratings.1.value"]
    );

    let made = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Globex Partners", "type": "VAR", "website": "globex-partners.example", "country": "us", "ratings": [{ "criterionKey": "market_reach", "value": 10 }] } }))
        .await;
    let prospect = &made["data"]["createProspect"]["prospect"];
    // market reach 10 × weight 20 × 10 / 100
    assert_eq!(prospect["fitScore"]["total"], "20", "{made}");
    let id = prospect["id"].as_str().unwrap().to_owned();

    let update = "mutation($i: ProspectInput!) { updateProspect(input: $i) { prospect { fitScore { total criteria { criterion { key } rated } } } } }";
    let rated = app.gql_as(MANAGER, update, json!({ "i": { "id": id, "ratings": [{ "criterionKey": "vertical_fit", "value": 10 }] } })).await;
    let score = &rated["data"]["updateProspect"]["prospect"]["fitScore"];
    assert_eq!(score["total"], "35");
    assert_eq!(
        score["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rated"] == true)
            .count(),
        2
    );

    let convert = "mutation($i: ProspectDecisionInput!) { convertProspect(input: $i) {
      prospect { status convertedPartner { name } } partner { id name status type domains country onboarding { totalCount } }
      userErrors { field code } } }";
    let converted = app
        .gql_as(MANAGER, convert, json!({ "i": { "id": id } }))
        .await;
    let payload = &converted["data"]["convertProspect"];
    assert_eq!(payload["prospect"]["status"], "CONVERTED", "{converted}");
    assert_eq!(payload["partner"]["status"], "ONBOARDING");
    assert_eq!(payload["partner"]["type"], "VAR");
    assert_eq!(
        payload["partner"]["domains"],
        json!(["globex-partners.example"])
    );
    assert_eq!(payload["partner"]["country"], "US");
    assert_eq!(payload["partner"]["onboarding"]["totalCount"], 5);
    assert_eq!(
        payload["prospect"]["convertedPartner"]["name"],
        "Globex Partners"
    );

    let twice = app
        .gql_as(MANAGER, convert, json!({ "i": { "id": id } }))
        .await;
    assert_eq!(
        error_codes(&twice["data"]["convertProspect"]),
        ["ILLEGAL_TRANSITION"]
    );
}
