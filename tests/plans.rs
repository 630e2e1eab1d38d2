//! Joint business plans: drafted by the vendor, shared, accepted by the partner's org
//! admin, and actuals computed from what the partner wins, never typed.

use serde_json::{json, Value};

use crate::common::*;

const PLAN: &str = "id status allowedTransitions targets { quarter amount { amount currency } }
    actuals { revenue { amount currency } sourcedRevenue { amount currency }
              byQuarter { quarter target { amount } actual { amount currency } attainment } }
    history(first: 10) { edges { node { fromStatus toStatus } } }";

async fn act(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let name = mutation[..1].to_lowercase() + &mutation[1..];
    let input_type = match mutation {
        "CreateJointBusinessPlan" | "SetJointBusinessPlanTargets" => format!("{mutation}Input"),
        _ => "JointBusinessPlanActionInput".to_owned(),
    };
    let done = app
        .gql(
            Some(token),
            &format!("mutation($i: {input_type}!){{ {name}(input: $i){{ jointBusinessPlan {{ {PLAN} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await;
    assert!(done["errors"].is_null(), "{done}");
    done["data"][name.as_str()].clone()
}

async fn node(app: &TestApp, token: &str, id: &Value) -> Value {
    let seen = app
        .gql(
            Some(token),
            &format!(
                "query($id: ID!){{ node(id: $id) {{ ... on JointBusinessPlan {{ {PLAN} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    assert!(seen["errors"].is_null(), "{seen}");
    seen["data"]["node"].clone()
}

fn usd(list: &Value) -> rust_decimal::Decimal {
    list.as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .find(|m| m["currency"] == "USD")
        .map(|m| m["amount"].as_str().unwrap().parse().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_plan_is_shared_accepted_and_its_revenue_follows_the_partners_wins() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    let today = chrono::Utc::now().date_naive();
    let (start, end) = (
        today - chrono::Duration::days(30),
        today + chrono::Duration::days(60),
    );
    let quarter = format!(
        "{}-Q{}",
        today.format("%Y"),
        (today.format("%m").to_string().parse::<u32>().unwrap() - 1) / 3 + 1
    );
    let created = act(
        &app,
        &manager,
        "CreateJointBusinessPlan",
        json!({ "partnerId": northwind, "name": "Northwind FY27 growth", "periodStart": start, "periodEnd": end,
                "targets": [{ "quarter": quarter, "amount": { "amount": "100000", "currency": "USD" } }] }),
    )
    .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let plan = &created["jointBusinessPlan"];
    assert_eq!(plan["status"], "DRAFT");
    let id = plan["id"].clone();

    // A draft is the vendor's: Northwind gets null until it is shared; TierTwo always.
    let alice = app.login(ALICE_NORTHWIND).await;
    let bob = app.login(BOB_TIERTWO).await;
    assert!(node(&app, &alice, &id).await.is_null());
    let early = act(&app, &alice, "AcceptJointBusinessPlan", json!({ "id": id })).await;
    assert_eq!(early["userErrors"][0]["code"], "NOT_FOUND");
    let shared = act(
        &app,
        &manager,
        "ShareJointBusinessPlan",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(shared["jointBusinessPlan"]["status"], "SHARED");
    let seen = node(&app, &alice, &id).await;
    assert_eq!(seen["status"], "SHARED");
    assert_eq!(seen["allowedTransitions"], json!(["ACTIVE"]));
    assert!(node(&app, &bob, &id).await.is_null());
    let listed = app
        .gql(
            Some(&bob),
            "{ jointBusinessPlans(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["jointBusinessPlans"]["totalCount"], 0);

    let accepted = act(&app, &alice, "AcceptJointBusinessPlan", json!({ "id": id })).await;
    assert_eq!(accepted["userErrors"], json!([]), "{accepted}");
    let active = &accepted["jointBusinessPlan"];
    assert_eq!(active["status"], "ACTIVE");
    let before = usd(&active["actuals"]["revenue"]);
    // Targets stay as agreed once active.
    let frozen = act(
        &app,
        &manager,
        "SetJointBusinessPlanTargets",
        json!({ "id": id, "targets": [] }),
    )
    .await;
    assert_eq!(frozen["userErrors"][0]["code"], "ILLEGAL_TRANSITION");

    // A win of Northwind's in the period grows the actuals by exactly its amount.
    let registration =
        crate::metrics::approved(&app, &alice, &manager, "Quantum Freight", "USD").await;
    crate::metrics::won(
        &app,
        &alice,
        &registration,
        "4321.50",
        "USD",
        &chrono::Utc::now().to_rfc3339(),
    )
    .await;
    let after = node(&app, &manager, &id).await;
    assert_eq!(
        usd(&after["actuals"]["revenue"]) - before,
        rust_decimal::Decimal::new(432_150, 2)
    );
    // Listed with the demo's plans (their actuals read together), the same figures.
    let listed = app
        .gql(
            Some(&manager),
            "{ jointBusinessPlans(first: 20) { edges { node { id partner { name } actuals { revenue { amount currency } } } } } }",
            json!({}),
        )
        .await;
    let edges = listed["data"]["jointBusinessPlans"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(edges.len() >= 3, "{listed}");
    let same = edges.iter().find(|e| e["node"]["id"] == id).unwrap();
    assert_eq!(
        same["node"]["actuals"]["revenue"],
        after["actuals"]["revenue"]
    );
    let this_quarter = after["actuals"]["byQuarter"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["quarter"] == quarter.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{after}"));
    assert_eq!(this_quarter["target"]["amount"], "100000.00");
    let history: Vec<&str> = after["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["toStatus"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["DRAFT", "SHARED", "ACTIVE"]);
}

#[tokio::test]
async fn bad_plans_are_user_errors() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    for (input, field) in [
        (
            json!({ "name": " ", "periodStart": "2027-01-01", "periodEnd": "2027-12-31" }),
            "name",
        ),
        (
            json!({ "name": "x", "periodStart": "2027-01-01", "periodEnd": "2026-12-31" }),
            "periodEnd",
        ),
        (
            json!({ "name": "x", "periodStart": "2027-01-01", "periodEnd": "2027-12-31",
                 "targets": [{ "quarter": "2028-Q1", "amount": { "amount": "5", "currency": "USD" } }] }),
            "targets.0.quarter",
        ),
        (
            json!({ "name": "x", "periodStart": "2027-01-01", "periodEnd": "2027-12-31",
                 "targets": [{ "quarter": "2027-Q2", "amount": { "amount": "-5", "currency": "USD" } }] }),
            "targets.0.amount",
        ),
    ] {
        let mut input = input;
        input["partnerId"] = northwind.clone().into();
        let refused = act(&app, &manager, "CreateJointBusinessPlan", input.clone()).await;
        assert!(refused["jointBusinessPlan"].is_null(), "{input}: {refused}");
        assert_eq!(
            refused["userErrors"][0]["field"], field,
            "{input}: {refused}"
        );
    }
    let alice = app.login(ALICE_NORTHWIND).await;
    let forbidden = app
        .gql(
            Some(&alice),
            "mutation($i: CreateJointBusinessPlanInput!){ createJointBusinessPlan(input: $i){ userErrors { field } } }",
            json!({ "i": { "partnerId": northwind, "name": "mine", "periodStart": "2027-01-01", "periodEnd": "2027-03-31" } }),
        )
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
}
