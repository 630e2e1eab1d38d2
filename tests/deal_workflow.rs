//! Deal registrations' workflow: approval and its protection, returns and resubmissions,
//! withdrawals, closing, protection extensions and expiry.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::*;
use crate::deals::{deal, register, APPROVE, REGISTER};

#[tokio::test]
async fn approval_protects_the_first_registration_and_refuses_the_later_one() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let northwind = register(
        &app,
        ALICE_NORTHWIND,
        deal("Globex Corporation", "globex.com", &[&cloud], None),
    )
    .await;
    let tiertwo = register(
        &app,
        BOB_TIERTWO,
        deal("Globex Corp.", "https://www.globex.com/", &[&cloud], None),
    )
    .await;

    let approved = app
        .gql_as(
            MANAGER,
            APPROVE,
            json!({ "i": { "id": northwind["dealRegistration"]["id"] } }),
        )
        .await;
    let registration = &approved["data"]["approveDealRegistration"]["dealRegistration"];
    assert_eq!(registration["status"], "APPROVED", "{approved}");
    let approved_at =
        chrono::DateTime::parse_from_rfc3339(registration["approvedAt"].as_str().unwrap()).unwrap();
    let until =
        chrono::DateTime::parse_from_rfc3339(registration["protectedUntil"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        (until - approved_at).num_days(),
        60,
        "Northwind is Silver: 60 days of protection"
    );

    let refused = app
        .gql_as(
            MANAGER,
            APPROVE,
            json!({ "i": { "id": tiertwo["dealRegistration"]["id"] } }),
        )
        .await;
    let payload = &refused["data"]["approveDealRegistration"];
    assert!(payload["dealRegistration"].is_null());
    assert_eq!(error_codes(payload), ["RULE_VIOLATION"]);

    let history = "query($id: ID!) { node(id: $id) { ... on DealRegistration { allowedTransitions history { edges { node { fromStatus toStatus actor { email } } } } } } }";
    let seen = app
        .gql_as(
            MANAGER,
            history,
            json!({ "id": northwind["dealRegistration"]["id"] }),
        )
        .await["data"]["node"]
        .clone();
    let steps: Vec<(Value, Value)> = seen["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["fromStatus"].clone(),
                e["node"]["toStatus"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (Value::Null, json!("DRAFT")),
            (json!("DRAFT"), json!("SUBMITTED")),
            (json!("SUBMITTED"), json!("UNDER_REVIEW")),
            (json!("UNDER_REVIEW"), json!("APPROVED")),
        ]
    );
    assert_eq!(
        seen["allowedTransitions"],
        json!(["CANCELLED", "WON", "LOST"])
    );
}

#[tokio::test]
async fn concurrent_approvals_never_protect_two_parties() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let mut ids = Vec::new();
    for (email, name) in [
        (ALICE_NORTHWIND, "Soylent Corp"),
        (DAVE_SUMMIT, "Soylent Corporation"),
        (BOB_TIERTWO, "Soylent"),
    ] {
        let created = register(&app, email, deal(name, "soylent.example", &[&cloud], None)).await;
        ids.push(
            created["dealRegistration"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let manager = app.login(MANAGER).await;
    let mut calls = Vec::new();
    for round in 0..21 {
        let router = app.router.clone();
        let token = manager.clone();
        let id = ids[round % 3].clone();
        calls.push(tokio::spawn(async move {
            gql_on(&router, Some(&token), APPROVE, json!({ "i": { "id": id } })).await
        }));
    }
    let mut approvals = 0;
    for call in calls {
        let response = call.await.unwrap();
        assert!(
            response.get("errors").is_none(),
            "every call answers cleanly: {response}"
        );
        if response["data"]["approveDealRegistration"]["dealRegistration"]["status"] == "APPROVED" {
            approvals += 1;
        }
    }
    assert_eq!(approvals, 1, "exactly one approval call succeeds");
    let approved = app.gql_as(MANAGER, "{ dealRegistrations(first: 100, filter: { status: APPROVED }) { edges { node { id customer { domain } } } } }", json!({})).await;
    let soylent: Vec<_> = approved["data"]["dealRegistrations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["customer"]["domain"] == "soylent.example")
        .collect();
    assert_eq!(soylent.len(), 1);
    assert_eq!(
        soylent[0]["node"]["id"],
        ids[0].as_str(),
        "the earliest submission wins"
    );
}

const ACT: &str = "mutation($i: DealActionInput!) { NAME(input: $i) { dealRegistration { status resubmissionCount editableFields } userErrors { field code } } }";

pub(crate) fn act(name: &str) -> String {
    ACT.replace("NAME", name)
}

#[tokio::test]
async fn the_workflow_returns_resubmits_withdraws_and_closes() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let created = register(
        &app,
        ALICE_NORTHWIND,
        deal(
            "Vandelay Imports",
            "vandelay-imports.example",
            &[&cloud],
            None,
        ),
    )
    .await;
    let id = created["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let returning = "mutation($i: ReturnDealInput!) { returnDealRegistration(input: $i) { dealRegistration { status editableFields } userErrors { field code } } }";
    let bad = app
        .gql_as(
            MANAGER,
            returning,
            json!({ "i": { "id": id, "editableFields": ["colour"] } }),
        )
        .await;
    assert_eq!(
        error_fields(&bad["data"]["returnDealRegistration"]),
        ["editableFields"]
    );
    let returned = app.gql_as(MANAGER, returning, json!({ "i": { "id": id, "editableFields": ["estimatedValue"], "reason": "value looks high" } })).await;
    assert_eq!(
        returned["data"]["returnDealRegistration"]["dealRegistration"]["status"],
        "RETURNED"
    );
    assert_eq!(
        returned["data"]["returnDealRegistration"]["dealRegistration"]["editableFields"],
        json!(["estimatedValue"])
    );

    let resubmitted = app
        .gql_as(
            ALICE_NORTHWIND,
            &act("submitDealRegistration"),
            json!({ "i": { "id": id } }),
        )
        .await;
    let registration = &resubmitted["data"]["submitDealRegistration"]["dealRegistration"];
    assert_eq!(
        (
            registration["status"].as_str(),
            registration["resubmissionCount"].as_i64()
        ),
        (Some("SUBMITTED"), Some(1))
    );
    assert_eq!(
        registration["editableFields"],
        json!([]),
        "read-only while under review"
    );

    let approved = app
        .gql_as(
            MANAGER,
            APPROVE,
            json!({ "i": { "id": id, "protectionDays": 30 } }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveDealRegistration"]["dealRegistration"]["status"],
        "APPROVED"
    );
    let late = app
        .gql_as(
            ALICE_NORTHWIND,
            &act("withdrawDealRegistration"),
            json!({ "i": { "id": id } }),
        )
        .await;
    assert_eq!(
        error_codes(&late["data"]["withdrawDealRegistration"]),
        ["ILLEGAL_TRANSITION"],
        "no withdrawal after approval"
    );

    let won = "mutation($i: MarkDealWonInput!) { markDealWon(input: $i) { dealRegistration { status closedAmount { amount currency } } userErrors { field code } } }";
    let wrong_currency = app
        .gql_as(
            ALICE_NORTHWIND,
            won,
            json!({ "i": { "id": id, "closedAmount": { "amount": "99000", "currency": "EUR" } } }),
        )
        .await;
    assert_eq!(
        error_fields(&wrong_currency["data"]["markDealWon"]),
        ["closedAmount"]
    );
    let closed = app
        .gql_as(
            ALICE_NORTHWIND,
            won,
            json!({ "i": { "id": id, "closedAmount": { "amount": "99000", "currency": "USD" } } }),
        )
        .await;
    assert_eq!(
        closed["data"]["markDealWon"]["dealRegistration"]["closedAmount"],
        json!({ "amount": "99000.00", "currency": "USD" })
    );
    let again = app
        .gql_as(
            ALICE_NORTHWIND,
            won,
            json!({ "i": { "id": id, "closedAmount": { "amount": "1", "currency": "USD" } } }),
        )
        .await;
    assert_eq!(
        error_codes(&again["data"]["markDealWon"]),
        ["ILLEGAL_TRANSITION"],
        "WON is terminal"
    );

    // Winning released the customer: a new registration of it can be approved.
    let next = register(
        &app,
        BOB_TIERTWO,
        deal(
            "Vandelay Imports",
            "vandelay-imports.example",
            &[&cloud],
            None,
        ),
    )
    .await;
    let approved = app
        .gql_as(
            MANAGER,
            APPROVE,
            json!({ "i": { "id": next["dealRegistration"]["id"] } }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveDealRegistration"]["dealRegistration"]["status"], "APPROVED",
        "{approved}"
    );

    let draft = app
        .gql_as(ALICE_NORTHWIND, REGISTER, {
            let mut d = deal("Draft Co", "draft-co.example", &[&cloud], None);
            d["i"]["submit"] = json!(false);
            d
        })
        .await;
    let draft_id = draft["data"]["registerDeal"]["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        draft["data"]["registerDeal"]["dealRegistration"]["status"],
        "DRAFT"
    );
    let withdrawn = app
        .gql_as(
            ALICE_NORTHWIND,
            &act("withdrawDealRegistration"),
            json!({ "i": { "id": draft_id } }),
        )
        .await;
    assert_eq!(
        withdrawn["data"]["withdrawDealRegistration"]["dealRegistration"]["status"],
        "WITHDRAWN"
    );
}

#[tokio::test]
async fn lapsed_protection_expires_once_however_many_replicas_run_the_job() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let created = register(
        &app,
        ALICE_NORTHWIND,
        deal("Oscorp", "oscorp.example", &[&cloud], None),
    )
    .await;
    let id = created["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql_as(
        MANAGER,
        APPROVE,
        json!({ "i": { "id": id, "protectionDays": 30 } }),
    )
    .await;
    // Let the protection lapse (the clock is the one thing a test may move).
    entity::deal_registration::Entity::update_many()
        .col_expr(
            entity::deal_registration::Column::ProtectedUntil,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(entity::deal_registration::Column::CustomerDomain.eq("oscorp.example"))
        .exec(&app.db)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        partnergraph::deals::service::expire_lapsed(&app.state.db),
        partnergraph::deals::service::expire_lapsed(&app.state.db)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "two replicas expire it once");
    let query = "query($id: ID!) { node(id: $id) { ... on DealRegistration { status history { edges { node { toStatus reason actor { email } } } } } } }";
    let seen = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await["data"]["node"]
        .clone();
    assert_eq!(seen["status"], "EXPIRED");
    let last = seen["history"]["edges"].as_array().unwrap().last().unwrap()["node"].clone();
    assert_eq!(
        last,
        json!({ "toStatus": "EXPIRED", "reason": "protection period ended", "actor": null })
    );
    // Expiry released the customer for others.
    let next = register(
        &app,
        BOB_TIERTWO,
        deal("Oscorp", "oscorp.example", &[&cloud], None),
    )
    .await;
    assert_eq!(next["dealRegistration"]["conflicts"], json!([]));
}

#[tokio::test]
async fn protection_extensions_are_requested_by_partners_and_decided_by_managers() {
    let app = TestApp::demo().await;
    let acme = app.gql_as(ALICE_NORTHWIND, "{ dealRegistrations(filter: { status: APPROVED }) { edges { node { id protectedUntil } } } }", json!({})).await;
    let node = acme["data"]["dealRegistrations"]["edges"][0]["node"].clone();
    let id = node["id"].as_str().unwrap().to_owned();
    let before =
        chrono::DateTime::parse_from_rfc3339(node["protectedUntil"].as_str().unwrap()).unwrap();
    let request = "mutation($i: RequestExtensionInput!) { requestProtectionExtension(input: $i) { dealRegistration { pendingExtensionDays } userErrors { field code } } }";
    let bad = app
        .gql_as(
            ALICE_NORTHWIND,
            request,
            json!({ "i": { "id": id, "days": 400 } }),
        )
        .await;
    assert_eq!(
        error_fields(&bad["data"]["requestProtectionExtension"]),
        ["days"]
    );
    let asked = app
        .gql_as(
            ALICE_NORTHWIND,
            request,
            json!({ "i": { "id": id, "days": 30, "reason": "procurement delay" } }),
        )
        .await;
    assert_eq!(
        asked["data"]["requestProtectionExtension"]["dealRegistration"]["pendingExtensionDays"],
        30
    );
    let decide = "mutation($i: DecideExtensionInput!) { decideProtectionExtension(input: $i) { dealRegistration { protectedUntil pendingExtensionDays } userErrors { code } } }";
    let by_partner = app
        .gql_as(
            ALICE_NORTHWIND,
            decide,
            json!({ "i": { "id": id, "approve": true } }),
        )
        .await;
    assert_eq!(error_code(&by_partner).as_deref(), Some("FORBIDDEN"));
    let granted = app
        .gql_as(
            MANAGER,
            decide,
            json!({ "i": { "id": id, "approve": true } }),
        )
        .await;
    let after = chrono::DateTime::parse_from_rfc3339(
        granted["data"]["decideProtectionExtension"]["dealRegistration"]["protectedUntil"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!((after - before).num_days(), 30);
    assert!(
        granted["data"]["decideProtectionExtension"]["dealRegistration"]["pendingExtensionDays"]
            .is_null()
    );
}

#[tokio::test]
async fn won_deals_feed_tier_progress_and_time_to_first_deal() {
    let app = TestApp::demo().await;
    // Demo: Summit (Gold, partner for 1500 days) won Wayne Enterprises for 52,500.00 USD.
    let summit = partner_id(&app, "Summit Distribution").await;
    let query = "query($id: ID!) { partner(id: $id) { timeToFirstDealDays tierProgress { nextTier { name } criteria { criterion required actual met } } } }";
    let seen = app
        .gql_as(DAVE_SUMMIT, query, json!({ "id": summit }))
        .await["data"]["partner"]
        .clone();
    assert_eq!(seen["timeToFirstDealDays"], 1500, "{seen}");
    assert_eq!(seen["tierProgress"]["nextTier"]["name"], "Platinum");
    let actual = |criterion: &str| {
        seen["tierProgress"]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion"] == criterion)
            .unwrap()["actual"]
            .clone()
    };
    assert_eq!(actual("WON_REVENUE"), "52500.00");
    assert_eq!(actual("WON_DEALS"), "1");
    assert_eq!(actual("APPROVED_REGISTRATIONS"), "1");

    // The demo's history: TierTwo's first deal closed six weeks after it joined.
    let tiertwo = partner_id(&app, "TierTwo").await;
    let first = app
        .gql_as(BOB_TIERTWO, query, json!({ "id": tiertwo }))
        .await;
    assert_eq!(
        first["data"]["partner"]["timeToFirstDealDays"], 42,
        "{first}"
    );
    let fabrikam = partner_id(&app, "Fabrikam Integrators").await;
    let none = app.gql_as(MANAGER, query, json!({ "id": fabrikam })).await;
    assert!(none["data"]["partner"]["timeToFirstDealDays"].is_null());
}

#[tokio::test]
async fn returned_registrations_can_change_only_the_listed_fields() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let created = register(
        &app,
        ALICE_NORTHWIND,
        deal("Cyberdyne", "cyberdyne.example", &[&cloud], None),
    )
    .await;
    let id = created["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = "mutation($i: UpdateDealRegistrationInput!) { updateDealRegistration(input: $i) { dealRegistration { version estimatedValue { amount } customer { name } } userErrors { field code } } }";
    let under_review = app
        .gql_as(
            ALICE_NORTHWIND,
            update,
            json!({ "i": { "id": id, "version": deal_version(&app, &id).await, "customerName": "Skynet" } }),
        )
        .await;
    assert_eq!(
        error_codes(&under_review["data"]["updateDealRegistration"]),
        ["RULE_VIOLATION"],
        "read-only once submitted"
    );

    let returning = "mutation($i: ReturnDealInput!) { returnDealRegistration(input: $i) { dealRegistration { status } } }";
    app.gql_as(
        MANAGER,
        returning,
        json!({ "i": { "id": id, "editableFields": ["estimatedValue"] } }),
    )
    .await;
    let v = deal_version(&app, &id).await;
    let name = app.gql_as(ALICE_NORTHWIND, update, json!({ "i": { "id": id, "version": v, "customerName": "Skynet", "estimatedValue": { "amount": "80000", "currency": "USD" } } })).await;
    assert_eq!(
        error_fields(&name["data"]["updateDealRegistration"]),
        ["customerName"]
    );
    let stale = app.gql_as(ALICE_NORTHWIND, update, json!({ "i": { "id": id, "version": 1, "estimatedValue": { "amount": "80000", "currency": "USD" } } })).await;
    assert_eq!(
        error_codes(&stale["data"]["updateDealRegistration"]),
        ["STALE_VERSION"]
    );
    let fixed = app.gql_as(ALICE_NORTHWIND, update, json!({ "i": { "id": id, "version": v, "estimatedValue": { "amount": "80000", "currency": "USD" } } })).await;
    let registration = &fixed["data"]["updateDealRegistration"]["dealRegistration"];
    assert_eq!(
        registration["estimatedValue"]["amount"], "80000.00",
        "{fixed}"
    );
    assert_eq!(registration["customer"]["name"], "Cyberdyne");
}

async fn deal_version(app: &TestApp, id: &str) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on DealRegistration { version } } }";
    app.gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await["data"]["node"]["version"]
        .clone()
}
