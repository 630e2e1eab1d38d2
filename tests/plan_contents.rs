//! What a joint business plan holds (target accounts, enablement needs, sponsors, weighted
//! objectives) and what is computed against it: pipeline in the target accounts, the needs
//! met, and each objective's attainment.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

pub const CONTENTS: &str = "id version status name
    targets { quarter amount { amount currency } }
    targetAccounts { accountId name domain country }
    enablementNeeds { kind course { id } certificationProgram { id } requiredCount
                      ownerContact { id } ownerUser { id } dueDate }
    sponsors { side user { id } contact { id } role }
    objectives { name metric target currency weight }
    actuals { revenue { amount currency } pipeline { amount currency } wonRegistrations
              targetAccounts { account { name } openRegistrations pipeline { amount currency }
                               wonRevenue { amount currency } }
              enablement { earned status need { kind } }
              objectives { name metric weight target actual attainment }
              weightedAttainment }";

pub async fn plan_act(
    app: &TestApp,
    token: &str,
    mutation: &str,
    input_type: &str,
    input: Value,
) -> Value {
    let done = app
        .gql(
            Some(token),
            &format!("mutation($i: {input_type}!){{ {mutation}(input: $i){{ jointBusinessPlan {{ {CONTENTS} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await;
    assert!(done["errors"].is_null(), "{done}");
    done["data"][mutation].clone()
}

/// Shares, accepts, completes or cancels the plan; the plan as it is afterwards.
pub async fn move_plan(app: &TestApp, token: &str, mutation: &str, id: &Value) -> Value {
    plan_act(
        app,
        token,
        mutation,
        "JointBusinessPlanActionInput",
        json!({ "id": id }),
    )
    .await
}

pub async fn plan_node(app: &TestApp, token: &str, id: &Value) -> Value {
    let seen = app
        .gql(
            Some(token),
            &format!("query($id: ID!){{ node(id: $id) {{ ... on JointBusinessPlan {{ {CONTENTS} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(seen["errors"].is_null(), "{seen}");
    seen["data"]["node"].clone()
}

/// A plan for Northwind over this quarter and the next, made by the manager (a draft).
pub async fn northwind_plan(app: &TestApp, manager: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    let created = plan_act(
        app,
        manager,
        "createJointBusinessPlan",
        "CreateJointBusinessPlanInput",
        json!({ "partnerId": partner_id(app, "Northwind").await, "name": "Northwind: healthcare push",
                "periodStart": today - chrono::Duration::days(10),
                "periodEnd": today + chrono::Duration::days(120) }),
    )
    .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    created["jointBusinessPlan"].clone()
}

pub async fn first_ids(app: &TestApp, token: &str, query: &str, path: &[&str]) -> Vec<String> {
    let found = app.gql(Some(token), query, json!({})).await;
    let mut at = &found["data"];
    for step in path {
        at = &at[*step];
    }
    at["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn contacts_of(app: &TestApp, manager: &str, partner: &str) -> Vec<String> {
    let id = partner_id(app, partner).await;
    let found = app
        .gql(
            Some(manager),
            "query($id: ID!){ node(id: $id){ ... on Partner { contacts(first: 20){ edges { node { id } } } } } }",
            json!({ "id": id }),
        )
        .await;
    found["data"]["node"]["contacts"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn amount(list: &Value, currency: &str) -> Decimal {
    list.as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .find(|m| m["currency"] == currency)
        .map(|m| m["amount"].as_str().unwrap().parse().unwrap())
        .unwrap_or_default()
}

async fn register(
    app: &TestApp,
    partner: &str,
    customer: &str,
    domain: &str,
    value: &str,
) -> String {
    let product = product_id(app, "PartnerGraph Cloud").await;
    let registered = app
        .gql(
            Some(partner),
            "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { message } } }",
            json!({ "i": { "customerName": customer, "customerDomain": domain, "productIds": [product],
                           "submit": true, "expectedCloseDate": "2027-06-30",
                           "estimatedValue": { "amount": value, "currency": "USD" } } }),
        )
        .await;
    registered["data"]["registerDeal"]["dealRegistration"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned()
}

/// Σ weight × min(attainment, 1) / Σ weight over the objectives as returned.
fn weighted(objectives: &Value) -> f64 {
    let list = objectives.as_array().unwrap();
    let total: f64 = list.iter().map(|o| o["weight"].as_f64().unwrap()).sum();
    let sum: f64 = list
        .iter()
        .map(|o| o["weight"].as_f64().unwrap() * o["attainment"].as_f64().unwrap_or(0.0).min(1.0))
        .sum();
    sum / total
}

#[tokio::test]
async fn a_plans_contents_are_kept_and_measured_from_what_the_partner_does() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let plan = northwind_plan(&app, &manager).await;
    let id = plan["id"].clone();
    let courses = first_ids(
        &app,
        &manager,
        "{ courses(first: 5){ edges { node { id } } } }",
        &["courses"],
    )
    .await;
    let contacts = contacts_of(&app, &manager, "Northwind").await;
    let manager_id = user_id(&app, MANAGER).await;
    let alice_id = user_id(&app, ALICE_NORTHWIND).await;
    let changes = json!({
        "targetAccounts": [
            { "name": "Quantum Freight Ltd", "domain": "https://www.quantumfreight.example/", "country": "gb" },
            { "name": "Harbor Clinics" }
        ],
        "enablementNeeds": [
            { "courseId": courses[3], "requiredCount": 1, "ownerContactId": contacts[0],
              "ownerUserId": manager_id, "dueDate": "2020-01-01" }
        ],
        "sponsors": [ { "userId": manager_id, "role": "executive sponsor" },
                      { "contactId": contacts[0], "role": "executive sponsor" } ],
        "objectives": [
            { "name": "Revenue", "metric": "REVENUE", "target": "10000", "currency": "USD", "weight": 3 },
            { "name": "Pipeline in target accounts", "metric": "TARGET_ACCOUNT_PIPELINE", "target": "4000", "currency": "USD", "weight": 1 },
            { "name": "Wins", "metric": "WON_REGISTRATIONS", "target": "4", "weight": 1 },
            { "name": "Enablement", "metric": "ENABLEMENT_NEEDS_MET", "target": "1", "weight": 1 }
        ]
    });
    let updated = plan_act(
        &app,
        &manager,
        "updateJointBusinessPlan",
        "UpdateJointBusinessPlanInput",
        json!({ "id": id, "version": plan["version"], "changes": changes }),
    )
    .await;
    assert_eq!(updated["userErrors"], json!([]), "{updated}");
    let kept = &updated["jointBusinessPlan"];
    assert_eq!(
        kept["targetAccounts"][0]["domain"],
        "quantumfreight.example"
    );
    assert_eq!(kept["targetAccounts"][0]["country"], "GB");
    assert_eq!(kept["sponsors"][0]["side"], "VENDOR");
    assert_eq!(kept["sponsors"][1]["side"], "PARTNER");
    assert_eq!(kept["objectives"][0]["target"], "10000.00");
    assert_eq!(kept["objectives"][2]["target"], "4");
    let before = &kept["actuals"];
    assert_eq!(before["enablement"][0]["status"], "OVERDUE", "{before}");
    // Shared so that Northwind works the plan.
    move_plan(&app, &manager, "shareJointBusinessPlan", &id).await;

    // Northwind registers with the target account's domain under another spelling: the
    // account's pipeline grows by exactly the estimated value.
    let registration = register(
        &app,
        &alice,
        "QuantumFreight",
        "quantumfreight.example",
        "2500",
    )
    .await;
    let seen = plan_node(&app, &alice, &id).await;
    let account = &seen["actuals"]["targetAccounts"][0];
    assert_eq!(account["openRegistrations"], 1, "{seen}");
    assert_eq!(amount(&account["pipeline"], "USD"), Decimal::new(2500, 0));
    assert_eq!(
        amount(&seen["actuals"]["pipeline"], "USD") - amount(&before["pipeline"], "USD"),
        Decimal::new(2500, 0)
    );
    // Partners never see the vendor's account record.
    assert!(seen["targetAccounts"][0]["accountId"].is_null());

    // Won: out of the pipeline, into the account's won revenue and the revenue objective.
    let approval = app
        .gql(
            Some(&manager),
            "mutation($i: ApproveDealInput!){ approveDealRegistration(input: $i){ userErrors { message } } }",
            json!({ "i": { "id": registration } }),
        )
        .await;
    assert_eq!(
        approval["data"]["approveDealRegistration"]["userErrors"],
        json!([]),
        "{approval}"
    );
    crate::metrics::won(
        &app,
        &alice,
        &registration,
        "3000",
        "USD",
        &chrono::Utc::now().to_rfc3339(),
    )
    .await;
    // One of Northwind's people completes the needed course: the need is met.
    let completed = app
        .gql(
            Some(&manager),
            "mutation($i: RecordCourseCompletionInput!){ recordCourseCompletion(input: $i){ userErrors { message } } }",
            json!({ "i": { "userId": alice_id, "courseId": courses[3] } }),
        )
        .await;
    assert_eq!(
        completed["data"]["recordCourseCompletion"]["userErrors"],
        json!([]),
        "{completed}"
    );
    let after = plan_node(&app, &manager, &id).await;
    let actuals = &after["actuals"];
    let account = &actuals["targetAccounts"][0];
    assert_eq!(account["openRegistrations"], 0, "{after}");
    assert_eq!(amount(&account["wonRevenue"], "USD"), Decimal::new(3000, 0));
    assert_eq!(actuals["enablement"][0]["status"], "MET");
    assert_eq!(actuals["enablement"][0]["earned"], 1);
    let revenue = actuals["objectives"][0]["actual"]
        .as_str()
        .unwrap()
        .parse::<Decimal>()
        .unwrap();
    assert_eq!(revenue, amount(&actuals["revenue"], "USD"));
    assert_eq!(
        actuals["objectives"][2]["actual"],
        actuals["wonRegistrations"].to_string()
    );
    assert_eq!(actuals["objectives"][3]["actual"], "1");
    assert_eq!(actuals["objectives"][3]["attainment"], 1.0);
    let expected = weighted(&actuals["objectives"]);
    assert!(
        (actuals["weightedAttainment"].as_f64().unwrap() - expected).abs() < 1e-3,
        "{actuals}"
    );

    // TierTwo sees none of it.
    let bob = app.login(BOB_TIERTWO).await;
    assert!(plan_node(&app, &bob, &id).await.is_null());
}

#[tokio::test]
async fn bad_plan_contents_are_user_errors_and_change_nothing() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let plan = northwind_plan(&app, &manager).await;
    let id = plan["id"].clone();
    let tiertwo_contact = contacts_of(&app, &manager, "TierTwo").await;
    let alice_id = user_id(&app, ALICE_NORTHWIND).await;
    let nowhere = "Q291cnNlOjk5OTk5OTk"; // Course:9999999
    for (changes, field, code) in [
        (
            json!({ "targetAccounts": [{ "name": " " }] }),
            "targetAccounts.0.name",
            "REQUIRED",
        ),
        (
            json!({ "targetAccounts": [{ "name": "Acme", "domain": "not a domain" }] }),
            "targetAccounts.0.domain",
            "INVALID",
        ),
        (
            json!({ "targetAccounts": [{ "name": "Acme", "country": "Narnia" }] }),
            "targetAccounts.0.country",
            "INVALID",
        ),
        (
            json!({ "targetAccounts": [{ "name": "Acme Ltd" }, { "name": "ACME Limited" }] }),
            "targetAccounts.1.name",
            "TAKEN",
        ),
        (
            json!({ "enablementNeeds": [{ "courseId": nowhere }] }),
            "enablementNeeds.0.courseId",
            "NOT_FOUND",
        ),
        (
            json!({ "enablementNeeds": [{}] }),
            "enablementNeeds.0.courseId",
            "INVALID",
        ),
        (
            json!({ "sponsors": [{ "contactId": tiertwo_contact.first().cloned().unwrap_or_default() }] }),
            "sponsors.0.contactId",
            "NOT_FOUND",
        ),
        (
            json!({ "sponsors": [{ "userId": alice_id }] }),
            "sponsors.0.userId",
            "NOT_FOUND",
        ),
        (
            json!({ "objectives": [{ "name": "Wins", "metric": "WON_REGISTRATIONS", "target": "2.5", "weight": 1 }] }),
            "objectives.0.target",
            "INVALID",
        ),
        (
            json!({ "objectives": [{ "name": "Wins", "metric": "WON_REGISTRATIONS", "target": "2", "currency": "USD", "weight": 1 }] }),
            "objectives.0.currency",
            "INVALID",
        ),
        (
            json!({ "objectives": [{ "name": "Revenue", "metric": "REVENUE", "target": "100", "weight": 1 }] }),
            "objectives.0.currency",
            "REQUIRED",
        ),
        (
            json!({ "objectives": [{ "name": "Revenue", "metric": "REVENUE", "target": "100", "currency": "USD", "weight": 0 }] }),
            "objectives.0.weight",
            "INVALID",
        ),
        (
            json!({ "objectives": [{ "name": "Revenue", "metric": "REVENUE", "target": "-1", "currency": "USD", "weight": 5 }] }),
            "objectives.0.target",
            "INVALID",
        ),
    ] {
        let refused = plan_act(
            &app,
            &manager,
            "updateJointBusinessPlan",
            "UpdateJointBusinessPlanInput",
            json!({ "id": id, "changes": changes }),
        )
        .await;
        assert!(
            refused["jointBusinessPlan"].is_null(),
            "{changes}: {refused}"
        );
        assert_eq!(
            refused["userErrors"][0]["field"], field,
            "{changes}: {refused}"
        );
        assert_eq!(
            refused["userErrors"][0]["code"], code,
            "{changes}: {refused}"
        );
    }
    let unchanged = plan_node(&app, &manager, &id).await;
    assert_eq!(unchanged["version"], plan["version"]);
    assert_eq!(unchanged["targetAccounts"], json!([]));
    // A stale version is refused; partners cannot update.
    let stale = plan_act(
        &app,
        &manager,
        "updateJointBusinessPlan",
        "UpdateJointBusinessPlanInput",
        json!({ "id": id, "version": 99, "changes": { "name": "renamed" } }),
    )
    .await;
    assert_eq!(stale["userErrors"][0]["code"], "STALE_VERSION", "{stale}");
    move_plan(&app, &manager, "shareJointBusinessPlan", &id).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let forbidden = app
        .gql(
            Some(&alice),
            "mutation($i: UpdateJointBusinessPlanInput!){ updateJointBusinessPlan(input: $i){ userErrors { field } } }",
            json!({ "i": { "id": id, "changes": { "name": "mine" } } }),
        )
        .await;
    assert_eq!(
        error_code(&forbidden).as_deref(),
        Some("FORBIDDEN"),
        "{forbidden}"
    );
}
