//! Lead distribution: rules route leads to partners, partners see them redacted until they
//! accept, a decline or a lapsed time to accept sends a lead on (never back), and an
//! accepted lead converts into a deal registration through the registration path.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::common::*;

const LEAD: &str = "id status companyName contactEmail contactName accessible: allowedActions
    assignedPartner { name } acceptBy";

async fn create_lead(app: &TestApp, manager: &str, input: Value) -> Value {
    let created = app
        .gql(
            Some(manager),
            &format!("mutation($i: CreateLeadInput!){{ createLead(input: $i){{ lead {{ {LEAD} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    created["data"]["createLead"].clone()
}

fn lead_input(company: &str, region: &str, vertical: &str) -> Value {
    json!({ "companyName": company, "companyDomain": format!("{}.example", company.to_lowercase().replace(' ', "")),
            "country": "US", "region": region, "vertical": vertical,
            "contactName": "Pat Buyer", "contactEmail": "pat@buyer.example" })
}

async fn rule_for(app: &TestApp, manager: &str, partner: &str, region: &str, vertical: &str) {
    let rule = app
        .gql(
            Some(manager),
            "mutation($i: CreateLeadRoutingRuleInput!){ createLeadRoutingRule(input: $i){ leadRoutingRule { id } userErrors { field message } } }",
            json!({ "i": { "name": "Healthcare NA", "priority": 10, "partnerIds": [partner],
                           "regions": [region], "verticals": [vertical] } }),
        )
        .await;
    assert_eq!(
        rule["data"]["createLeadRoutingRule"]["userErrors"],
        json!([]),
        "{rule}"
    );
}

async fn node(app: &TestApp, token: &str, id: &Value) -> Value {
    let seen = app
        .gql(
            Some(token),
            &format!("query($id: ID!){{ node(id: $id) {{ ... on Lead {{ {LEAD} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(seen["errors"].is_null(), "{seen}");
    seen["data"]["node"].clone()
}

async fn act(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let name = mutation[..1].to_lowercase() + &mutation[1..];
    let done = app
        .gql(
            Some(token),
            &format!("mutation($i: {mutation}Input!){{ {name}(input: $i){{ lead {{ {LEAD} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await;
    assert!(done["errors"].is_null(), "{done}");
    done["data"][name.as_str()].clone()
}

#[tokio::test]
async fn a_rule_routes_a_lead_that_the_partner_accepts_and_converts() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    rule_for(&app, &manager, &northwind, "NA", "Healthcare").await;
    let created = create_lead(
        &app,
        &manager,
        lead_input("Mercy Clinics", "NA", "Healthcare"),
    )
    .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let lead = &created["lead"];
    assert_eq!(lead["status"], "ASSIGNED");
    assert_eq!(lead["assignedPartner"]["name"], "Northwind");
    assert!(!lead["acceptBy"].is_null());
    let id = lead["id"].clone();

    // Redacted for Northwind until it accepts; out of sight for TierTwo.
    let alice = app.login(ALICE_NORTHWIND).await;
    let before = {
        let (received, accepted, converted) = lead_counts(&app, &alice).await;
        (received - 1, accepted, converted)
    };
    let seen = node(&app, &alice, &id).await;
    assert_eq!(seen["companyName"], "Mercy Clinics");
    assert!(
        seen["contactEmail"].is_null() && seen["contactName"].is_null(),
        "{seen}"
    );
    assert_eq!(seen["accessible"], json!(["ACCEPT", "DECLINE"]));
    let bob = app.login(BOB_TIERTWO).await;
    assert!(node(&app, &bob, &id).await.is_null());
    let listed = app
        .gql(Some(&bob), "{ leads(first: 50) { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["data"]["leads"]["totalCount"], 0, "{listed}");
    // TierTwo cannot accept it either.
    let refused = act(&app, &bob, "AcceptLead", json!({ "id": id })).await;
    assert_eq!(refused["userErrors"][0]["code"], "NOT_FOUND");

    let accepted = act(&app, &alice, "AcceptLead", json!({ "id": id })).await;
    assert_eq!(accepted["userErrors"], json!([]), "{accepted}");
    assert_eq!(accepted["lead"]["status"], "ACCEPTED");
    assert_eq!(accepted["lead"]["contactEmail"], "pat@buyer.example");

    let product = product_id(&app, "PartnerGraph Cloud").await;
    let converted = app
        .gql(
            Some(&alice),
            "mutation($i: ConvertLeadInput!){ convertLead(input: $i){ lead { status dealRegistration { id } }
                 dealRegistration { id status customer { name } partner { name } conflicts { kind } }
                 userErrors { field message } } }",
            json!({ "i": { "id": id, "productIds": [product],
                           "estimatedValue": { "amount": "25000", "currency": "USD" },
                           "expectedCloseDate": "2027-03-31" } }),
        )
        .await;
    let c = &converted["data"]["convertLead"];
    assert_eq!(c["userErrors"], json!([]), "{converted}");
    assert_eq!(c["lead"]["status"], "CONVERTED");
    assert_eq!(c["dealRegistration"]["status"], "SUBMITTED");
    assert_eq!(c["dealRegistration"]["customer"]["name"], "Mercy Clinics");
    assert_eq!(c["dealRegistration"]["partner"]["name"], "Northwind");
    assert!(c["dealRegistration"]["conflicts"].is_array(), "{converted}");
    assert_eq!(
        c["lead"]["dealRegistration"]["id"],
        c["dealRegistration"]["id"]
    );

    // Northwind's figures grew by this lead: received, accepted and converted once more.
    let after = lead_counts(&app, &alice).await;
    assert_eq!(
        after,
        (before.0 + 1, before.1 + 1, before.2 + 1),
        "{before:?} → {after:?}"
    );
}

/// A partner's (received, accepted, converted) leads.
async fn lead_counts(app: &TestApp, token: &str) -> (i64, i64, i64) {
    let metrics = app
        .gql(
            Some(token),
            "{ leadMetrics { received accepted converted } }",
            json!({}),
        )
        .await;
    let m = &metrics["data"]["leadMetrics"];
    let n = |k: &str| m[k].as_i64().unwrap_or_else(|| panic!("{metrics}"));
    (n("received"), n("accepted"), n("converted"))
}

#[tokio::test]
async fn a_declined_lead_goes_on_and_never_back() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    rule_for(&app, &manager, &northwind, "NA", "Retail").await;
    let created = create_lead(&app, &manager, lead_input("Corner Shops", "NA", "Retail")).await;
    let id = created["lead"]["id"].clone();
    let alice = app.login(ALICE_NORTHWIND).await;
    let blank = act(
        &app,
        &alice,
        "DeclineLead",
        json!({ "id": id, "reason": "  " }),
    )
    .await;
    assert_eq!(blank["userErrors"][0]["field"], "reason");
    let declined = act(
        &app,
        &alice,
        "DeclineLead",
        json!({ "id": id, "reason": "no retail practice" }),
    )
    .await;
    assert_eq!(declined["userErrors"], json!([]), "{declined}");
    // The rule's only partner declined: the fallback's NA partner, Contoso.
    assert_eq!(declined["lead"]["status"], "ASSIGNED");
    assert_eq!(
        declined["lead"]["assignedPartner"]["name"],
        "Contoso Cloud Services"
    );
    assert!(node(&app, &alice, &id).await.is_null());
    let back = app
        .gql(
            Some(&manager),
            "mutation($i: AssignLeadInput!){ assignLead(input: $i){ userErrors { field code } } }",
            json!({ "i": { "id": id, "partnerId": northwind } }),
        )
        .await;
    assert_eq!(
        back["data"]["assignLead"]["userErrors"][0]["code"],
        "RULE_VIOLATION"
    );
    let history = app
        .gql(
            Some(&manager),
            "query($id: ID!){ node(id: $id) { ... on Lead { history(first: 10) { edges { node { toStatus reason partner { name } } } } } } }",
            json!({ "id": id }),
        )
        .await;
    let reasons: Vec<String> = history["data"]["node"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons.len(), 2, "{history}");
    assert!(reasons[0].contains("rule \"Healthcare NA\""), "{reasons:?}");
    assert!(
        reasons[1].contains("declined") && reasons[1].contains("weighted fallback"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn lapsed_leads_go_on_once_however_many_replicas_run_the_job() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    rule_for(&app, &manager, &northwind, "NA", "Energy").await;
    let created = create_lead(&app, &manager, lead_input("Grid Power", "NA", "Energy")).await;
    let id = created["lead"]["id"].clone();
    let other = app.replica_state(test_auth_config()).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    // Every lead waiting for a partner lapses by then (the demo's too), each once.
    let waiting = entity::lead::Entity::find()
        .filter(entity::lead::Column::Status.eq(entity::enums::LeadStatus::Assigned))
        .count(&app.db)
        .await
        .unwrap();
    let exclusions_before = entity::lead_exclusion::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        partnergraph::leads::respond::lapse_due(&app.state.db, later),
        partnergraph::leads::respond::lapse_due(&other.db, later),
    );
    assert_eq!(
        (a.unwrap() + b.unwrap()) as u64,
        waiting,
        "each lead moves once"
    );
    let seen = node(&app, &manager, &id).await;
    assert_eq!(seen["assignedPartner"]["name"], "Contoso Cloud Services");
    let lapsed = entity::lead_exclusion::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(lapsed, exclusions_before + waiting);
    // Northwind can no longer accept it.
    let alice = app.login(ALICE_NORTHWIND).await;
    let refused = act(&app, &alice, "AcceptLead", json!({ "id": id })).await;
    assert_eq!(refused["userErrors"][0]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn bad_leads_are_user_errors_and_write_nothing() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let before = entity::lead::Entity::find().count(&app.db).await.unwrap();
    for (input, field) in [
        (json!({ "companyName": "  " }), "companyName"),
        (
            json!({ "companyName": "Ok", "contactEmail": "not an email" }),
            "contactEmail",
        ),
        (
            json!({ "companyName": "Ok", "country": "Narnia" }),
            "country",
        ),
        (
            json!({ "companyName": "Ok", "companyDomain": "not a domain!" }),
            "companyDomain",
        ),
        (
            json!({ "companyName": "Ok", "productIds": ["UHJvZHVjdDo5OTk5OTk="] }),
            "productIds",
        ),
        (json!({ "companyName": "x".repeat(201) }), "companyName"),
    ] {
        let created = create_lead(&app, &manager, input.clone()).await;
        assert!(created["lead"].is_null(), "{input}: {created}");
        assert_eq!(
            created["userErrors"][0]["field"], field,
            "{input}: {created}"
        );
    }
    assert_eq!(
        entity::lead::Entity::find().count(&app.db).await.unwrap(),
        before
    );
    // Partners do not create leads.
    let alice = app.login(ALICE_NORTHWIND).await;
    let refused = app
        .gql(
            Some(&alice),
            "mutation { createLead(input: { companyName: \"X\" }) { lead { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    // One key, one lead.
    let mut input = lead_input("Replay Corp", "NA", "Retail");
    input["idempotencyKey"] = json!("campaign-42-row-7");
    let first = create_lead(&app, &manager, input.clone()).await;
    let again = create_lead(&app, &manager, input).await;
    assert_eq!(first["lead"]["id"], again["lead"]["id"]);
    assert_eq!(
        entity::lead::Entity::find().count(&app.db).await.unwrap(),
        before + 1
    );
}

#[tokio::test]
async fn the_fallback_follows_tier_weights_and_weight_zero_never_receives() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let tiers = app
        .gql(
            Some(&manager),
            "{ partners(first: 20) { edges { node { name tier { id } } } } }",
            json!({}),
        )
        .await;
    let tier_of = |name: &str| {
        tiers["data"]["partners"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == name)
            .map(|e| e["node"]["tier"]["id"].clone())
            .unwrap()
    };
    // Summit's tier gets weight 0: EMEA leads all go to TierTwo.
    let set = app
        .gql(
            Some(&manager),
            "mutation($i: SetLeadSettingsInput!){ setLeadSettings(input: $i){ leadSettings { acceptWithinHours } userErrors { field } } }",
            json!({ "i": { "tierWeights": [{ "tierId": tier_of("Summit Distribution"), "weight": 0 }] } }),
        )
        .await;
    assert_eq!(
        set["data"]["setLeadSettings"]["userErrors"],
        json!([]),
        "{set}"
    );
    let bulk = app
        .gql(
            Some(&manager),
            "mutation($i: CreateLeadsInput!){ createLeads(input: $i){ results { lead { assignedPartner { name } } userErrors { field } } } }",
            json!({ "i": { "leads": (0..4).map(|n| lead_input(&format!("Euro {n}"), "EMEA", "Retail")).collect::<Vec<_>>() } }),
        )
        .await;
    let names: Vec<&str> = bulk["data"]["createLeads"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{bulk}"))
        .iter()
        .map(|r| r["lead"]["assignedPartner"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["TierTwo"; 4]);
    let bad = app
        .gql(
            Some(&manager),
            "mutation { setLeadSettings(input: { acceptWithinHours: 0 }) { userErrors { field } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bad["data"]["setLeadSettings"]["userErrors"][0]["field"],
        "acceptWithinHours"
    );
}

#[tokio::test]
async fn a_partners_system_works_its_leads_with_a_key_of_the_lead_scopes() {
    let app = TestApp::demo().await;
    let list = json!({ "query": "{ leads(first: 10, filter: { statuses: [ASSIGNED] }){ edges { node { id status contactEmail } } } }" });
    let writer = app
        .api_key(ALICE_NORTHWIND, "CRM sync", &["LEADS_WRITE"])
        .await;
    let listed = app.post(Some(&writer), list.clone()).await.json();
    assert!(listed["errors"].is_null(), "{listed}");
    let waiting = listed["data"]["leads"]["edges"][0]["node"].clone();
    assert_eq!(waiting["status"], "ASSIGNED", "{listed}");
    assert!(waiting["contactEmail"].is_null());
    let accepted = app
        .post(
            Some(&writer),
            json!({ "query": "mutation($i: AcceptLeadInput!){ acceptLead(input: $i){ lead { status contactEmail } userErrors { code } } }",
                    "variables": { "i": { "id": waiting["id"] } } }),
        )
        .await
        .json();
    assert_eq!(
        accepted["data"]["acceptLead"]["lead"]["status"], "ACCEPTED",
        "{accepted}"
    );
    assert!(accepted["data"]["acceptLead"]["lead"]["contactEmail"].is_string());

    // A key without the lead scopes reads none; a read-only one cannot accept.
    let other = app
        .api_key(ALICE_NORTHWIND, "Directory", &["PARTNERS_READ"])
        .await;
    let refused = app.post(Some(&other), list).await.json();
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
    let reader = app
        .api_key(ALICE_NORTHWIND, "Reports", &["LEADS_READ", "PLANS_READ"])
        .await;
    let write = app
        .post(
            Some(&reader),
            json!({ "query": "mutation($i: DeclineLeadInput!){ declineLead(input: $i){ userErrors { code } } }",
                    "variables": { "i": { "id": waiting["id"], "reason": "no" } } }),
        )
        .await
        .json();
    assert_eq!(error_code(&write).as_deref(), Some("FORBIDDEN"), "{write}");
    let plans = app
        .post(
            Some(&reader),
            json!({ "query": "{ jointBusinessPlans(first: 5){ totalCount } }" }),
        )
        .await
        .json();
    assert_eq!(
        plans["data"]["jointBusinessPlans"]["totalCount"], 1,
        "{plans}"
    );
}
