//! Deal registration and channel conflict, including the race-proof exclusivity.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::*;

const REGISTER: &str = "mutation($i: RegisterDealInput!) { registerDeal(input: $i) {
  dealRegistration { id status protectedUntil customer { name domain } estimatedValue { amount currency }
    conflicts { kind score matchedOn rule registration { id } account { name } } }
  userErrors { field code message } } }";
const APPROVE: &str = "mutation($i: ApproveDealInput!) { approveDealRegistration(input: $i) {
  dealRegistration { id status protectedUntil approvedAt } userErrors { field code message } } }";
const COUNT: &str = "{ dealRegistrations { totalCount } }";

fn close_date(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

fn deal(customer: &str, domain: &str, products: &[&str], key: Option<&str>) -> Value {
    json!({ "i": {
        "customerName": customer, "customerDomain": domain, "customerCountry": "US",
        "productIds": products, "estimatedValue": { "amount": "120000.00", "currency": "USD" },
        "expectedCloseDate": close_date(45), "dealType": "NEW", "idempotencyKey": key, "submit": true
    } })
}

async fn register(app: &TestApp, email: &str, input: Value) -> Value {
    let response = app.gql_as(email, REGISTER, input).await;
    response["data"]["registerDeal"].clone()
}

async fn count(app: &TestApp, email: &str) -> i64 {
    app.gql_as(email, COUNT, json!({})).await["data"]["dealRegistrations"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_later_registration_of_the_same_customer_carries_the_conflict_evidence() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let first = register(
        &app,
        ALICE_NORTHWIND,
        deal("Globex Corporation", "globex.com", &[&cloud], Some("nw-1")),
    )
    .await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(first["dealRegistration"]["status"], "SUBMITTED");
    assert_eq!(first["dealRegistration"]["conflicts"], json!([]));
    assert_eq!(
        first["dealRegistration"]["estimatedValue"],
        json!({ "amount": "120000.00", "currency": "USD" })
    );

    let second = register(
        &app,
        BOB_TIERTWO,
        deal("Globex Corp.", "https://www.globex.com/", &[&cloud], None),
    )
    .await;
    let conflicts = second["dealRegistration"]["conflicts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(conflicts.len(), 1, "{second}");
    assert_eq!(conflicts[0]["kind"], "PARTNER_REGISTRATION");
    assert_eq!(conflicts[0]["rule"], "FIRST_COME_FIRST_SERVED");
    assert_eq!(
        conflicts[0]["matchedOn"],
        json!(["name", "domain", "country", "products"])
    );
    assert!(
        conflicts[0]["registration"].is_null() && conflicts[0]["score"].is_null(),
        "a partner learns that a conflict exists, not with whom or how sure: {second}"
    );

    // The manager sees the counterparty, the score and each signal's contribution.
    let id = second["dealRegistration"]["id"].as_str().unwrap();
    let query = "query($id: ID!) { node(id: $id) { ... on DealRegistration { conflicts {
        decision score registration { id partner { name } } products { name }
        evidence { signal contribution detail } } } } }";
    let seen = app.gql_as(MANAGER, query, json!({ "id": id })).await;
    let conflict = &seen["data"]["node"]["conflicts"][0];
    assert_eq!(conflict["registration"]["partner"]["name"], "Northwind");
    assert_eq!(conflict["decision"], "MATCH");
    assert_eq!(
        conflict["products"],
        json!([{ "name": "PartnerGraph Cloud" }])
    );
    let evidence = conflict["evidence"].as_array().unwrap();
    let signals: Vec<&str> = evidence
        .iter()
        .map(|e| e["signal"].as_str().unwrap())
        .collect();
    assert_eq!(signals, ["NAME", "SAME_DOMAIN", "SAME_COUNTRY"], "{seen}");
    let sum: f64 = evidence
        .iter()
        .map(|e| e["contribution"].as_f64().unwrap())
        .sum();
    assert_eq!(conflict["score"].as_f64().unwrap(), sum.min(1.0), "{seen}");
}

#[tokio::test]
async fn replaying_an_idempotency_key_returns_the_first_result_and_creates_nothing() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let input = deal(
        "Globex Corporation",
        "globex.com",
        &[&cloud],
        Some("crm-4711"),
    );
    let first = register(&app, ALICE_NORTHWIND, input.clone()).await;
    let before = count(&app, ALICE_NORTHWIND).await;
    let replay = register(&app, ALICE_NORTHWIND, input.clone()).await;
    assert_eq!(
        replay["dealRegistration"]["id"],
        first["dealRegistration"]["id"]
    );
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before);

    let mut changed = input;
    changed["i"]["customerName"] = json!("Someone Else");
    let reused = register(&app, ALICE_NORTHWIND, changed).await;
    assert_eq!(error_fields(&reused), ["idempotencyKey"]);
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before);
    // Keys belong to an organisation: another partner may use the same one.
    let other = register(
        &app,
        BOB_TIERTWO,
        deal("Umbra", "umbra.example", &[&cloud], Some("crm-4711")),
    )
    .await;
    assert_eq!(other["userErrors"], json!([]));
}

#[tokio::test]
async fn a_draft_is_saved_whole_and_racing_replays_of_its_key_create_it_once() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let analytics = product_id(&app, "PartnerGraph Analytics").await;
    let mut input = deal(
        "Initech",
        "initech.example",
        &[&cloud, &analytics, &cloud],
        Some("draft-1"),
    );
    input["i"]["submit"] = json!(false);
    let before = count(&app, ALICE_NORTHWIND).await;
    let (a, b) = tokio::join!(
        register(&app, ALICE_NORTHWIND, input.clone()),
        register(&app, ALICE_NORTHWIND, input.clone())
    );
    assert_eq!(a["userErrors"], json!([]), "{a}");
    assert_eq!(b["userErrors"], json!([]), "{b}");
    assert_eq!(a["dealRegistration"]["id"], b["dealRegistration"]["id"]);
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before + 1);

    let query = "query($id: ID!) { node(id: $id) { ... on DealRegistration { status
        products { name } history { edges { node { fromStatus toStatus reason actor { email } } } } } } }";
    let id = &a["dealRegistration"]["id"];
    let seen = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await["data"]["node"]
        .clone();
    assert_eq!(seen["status"], "DRAFT");
    let mut products: Vec<_> = seen["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    products.sort();
    assert_eq!(products, ["PartnerGraph Analytics", "PartnerGraph Cloud"]);
    assert_eq!(
        seen["history"]["edges"],
        json!([{ "node": { "fromStatus": null, "toStatus": "DRAFT", "reason": "registered",
            "actor": { "email": ALICE_NORTHWIND } } }])
    );

    // A draft naming an unknown product is refused and writes nothing.
    let mut bad = input;
    bad["i"]["idempotencyKey"] = json!("draft-2");
    bad["i"]["productIds"] = json!([cloud, "UHJvZHVjdDo5OTk5OTk"]);
    let refused = register(&app, ALICE_NORTHWIND, bad).await;
    assert_eq!(error_fields(&refused), ["productIds.1"], "{refused}");
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before + 1);
}

#[tokio::test]
async fn racing_submissions_with_one_key_create_one_registration_and_answer_it_to_both() {
    // The key's earlier request is looked for only after the write meets the key: the
    // loser of the race (its INSERT refused by the unique index, under the customer's lock
    // on PostgreSQL) answers the winner's registration, and nothing else is written.
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let input = deal(
        "Umbrella Corp",
        "umbrella.example",
        &[&cloud],
        Some("sub-1"),
    );
    let before = count(&app, ALICE_NORTHWIND).await;
    let (a, b) = tokio::join!(
        register(&app, ALICE_NORTHWIND, input.clone()),
        register(&app, ALICE_NORTHWIND, input.clone())
    );
    assert_eq!(a["userErrors"], json!([]), "{a}");
    assert_eq!(b["userErrors"], json!([]), "{b}");
    assert_eq!(a["dealRegistration"]["id"], b["dealRegistration"]["id"]);
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before + 1);
    // A replay with other content is refused, and writes nothing either.
    let mut changed = input.clone();
    changed["i"]["customerName"] = json!("Umbrella Corporation");
    let refused = register(&app, ALICE_NORTHWIND, changed).await;
    assert_eq!(refused["dealRegistration"], Value::Null, "{refused}");
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before + 1);
}

#[tokio::test]
async fn concurrent_drafts_are_each_saved_whole_with_their_own_products() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let analytics = product_id(&app, "PartnerGraph Analytics").await;
    let token = app.login(ALICE_NORTHWIND).await;
    let before = count(&app, ALICE_NORTHWIND).await;
    // On SQLite drafts that arrive together are committed together; each must still get its
    // own row, products and history, and one refused draft must not take the others down.
    let drafts = (0..12usize).map(|i| {
        let products = if i.is_multiple_of(2) {
            vec![&cloud]
        } else {
            vec![&cloud, &analytics]
        };
        let mut input = deal(
            &format!("Batch Customer {i}"),
            &format!("batch{i}.example"),
            &[],
            None,
        );
        input["i"]["productIds"] = json!(products);
        input["i"]["submit"] = json!(false);
        input["i"]["idempotencyKey"] = json!(if i == 5 {
            "batch-1".to_owned()
        } else {
            format!("batch-{i}")
        });
        let (app, token) = (&app, &token);
        async move { app.gql(Some(token), REGISTER, input).await["data"]["registerDeal"].clone() }
    });
    let results = futures_util::future::join_all(drafts).await;
    let saved: Vec<_> = results
        .iter()
        .filter(|r| r["userErrors"] == json!([]))
        .collect();
    // Draft 5 reuses draft 1's key for a different customer: refused, whichever came first.
    assert_eq!(saved.len(), 11, "{results:?}");
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before + 11);
    let query = "query($id: ID!) { node(id: $id) { ... on DealRegistration { status
        customer { name } products { name } history { totalCount } } } }";
    for result in saved {
        let registration = &result["dealRegistration"];
        let name = registration["customer"]["name"].as_str().unwrap();
        let i: usize = name.trim_start_matches("Batch Customer ").parse().unwrap();
        let seen = app
            .gql(Some(&token), query, json!({ "id": registration["id"] }))
            .await["data"]["node"]
            .clone();
        assert_eq!(seen["status"], "DRAFT", "{seen}");
        assert_eq!(seen["customer"]["name"], name);
        let products = seen["products"].as_array().unwrap().len();
        assert_eq!(
            products,
            if i.is_multiple_of(2) { 1 } else { 2 },
            "{name}: {seen}"
        );
        assert_eq!(seen["history"]["totalCount"], 1, "{seen}");
    }
}

#[tokio::test]
async fn partners_see_only_their_registrations_and_cannot_decide_them() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let northwind = register(
        &app,
        ALICE_NORTHWIND,
        deal("Globex Corporation", "globex.com", &[&cloud], None),
    )
    .await;
    let id = northwind["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert!(app.gql_as(BOB_TIERTWO, node, json!({ "id": id })).await["data"]["node"].is_null());
    let bobs = app
        .gql_as(
            BOB_TIERTWO,
            "{ dealRegistrations { edges { node { customer { name } partner { name } } } } }",
            json!({}),
        )
        .await;
    assert!(bobs["data"]["dealRegistrations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["partner"]["name"] == "TierTwo"));
    // The distributor sees its tier-two partner's registrations.
    let daves = app
        .gql_as(
            DAVE_SUMMIT,
            "{ dealRegistrations { edges { node { partner { name } } } } }",
            json!({}),
        )
        .await;
    let partners: Vec<_> = daves["data"]["dealRegistrations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["partner"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        partners.contains(&"TierTwo".to_string()) && !partners.contains(&"Northwind".to_string()),
        "{partners:?}"
    );

    let forbidden = app
        .gql_as(ALICE_NORTHWIND, APPROVE, json!({ "i": { "id": id } }))
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
}

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

#[tokio::test]
async fn a_direct_account_is_flagged_and_its_rep_sees_and_contests_the_registration() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let created = register(
        &app,
        ALICE_NORTHWIND,
        deal("Initech", "initech.com", &[&cloud], None),
    )
    .await;
    let conflicts = created["dealRegistration"]["conflicts"].as_array().unwrap();
    assert!(
        conflicts
            .iter()
            .any(|c| c["kind"] == "DIRECT_ACCOUNT" && c["rule"] == "NAMED_DIRECT_ACCOUNT_RESERVED"),
        "{created}"
    );
    assert!(
        conflicts.iter().all(|c| c["account"].is_null()),
        "the account is not named to the partner"
    );
    let id = created["dealRegistration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let reps = app
        .gql_as(
            REP,
            "{ dealRegistrations { edges { node { id customer { name } } } } }",
            json!({}),
        )
        .await;
    let seen: Vec<_> = reps["data"]["dealRegistrations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        seen,
        std::slice::from_ref(&id),
        "the rep sees registrations touching its accounts only"
    );
    let contest = "mutation($i: DealActionInput!) { contestDealRegistration(input: $i) { dealRegistration { contestedAt } userErrors { code } } }";
    let contested = app
        .gql_as(
            REP,
            contest,
            json!({ "i": { "id": id, "reason": "Initech is in an active direct cycle" } }),
        )
        .await;
    assert!(
        contested["data"]["contestDealRegistration"]["dealRegistration"]["contestedAt"].is_string(),
        "{contested}"
    );
    // The contest is an internal note: the manager sees it, the partner does not.
    let comments =
        "query($id: ID!) { node(id: $id) { ... on DealRegistration { comments { totalCount } } } }";
    assert_eq!(
        app.gql_as(MANAGER, comments, json!({ "id": id })).await["data"]["node"]["comments"]
            ["totalCount"],
        1
    );
    assert_eq!(
        app.gql_as(ALICE_NORTHWIND, comments, json!({ "id": id }))
            .await["data"]["node"]["comments"]["totalCount"],
        0
    );
    let manager_view = app.gql_as(MANAGER, "query($id: ID!) { node(id: $id) { ... on DealRegistration { conflicts { account { name owner { email } } } } } }", json!({ "id": id })).await;
    assert_eq!(
        manager_view["data"]["node"]["conflicts"][0]["account"]["owner"]["email"],
        REP
    );
}

#[tokio::test]
async fn bad_registrations_are_user_errors_and_create_nothing() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let before = count(&app, ALICE_NORTHWIND).await;
    let mut negative = deal("Globex", "globex.com", &[&cloud], None);
    negative["i"]["estimatedValue"]["amount"] = json!("-5.00");
    let unknown = deal("Globex", "globex.com", &["UHJvZHVjdDo5OTk5"], None);
    let mut past = deal("Globex", "globex.com", &[&cloud], None);
    past["i"]["expectedCloseDate"] = json!(close_date(-3));
    let mut nothing = deal(" ", "not a domain", &[], None);
    nothing["i"]["customerCountry"] = json!("USA");
    for (input, fields) in [
        (negative, vec!["estimatedValue"]),
        (unknown, vec!["productIds.0"]),
        (past, vec!["expectedCloseDate"]),
        (
            nothing,
            vec![
                "customerName",
                "customerDomain",
                "customerCountry",
                "productIds",
            ],
        ),
    ] {
        let payload = register(&app, ALICE_NORTHWIND, input).await;
        assert!(payload["dealRegistration"].is_null());
        assert_eq!(error_fields(&payload), fields, "{payload}");
    }
    assert_eq!(count(&app, ALICE_NORTHWIND).await, before);
    let by_manager = app
        .gql_as(
            MANAGER,
            REGISTER,
            deal("Globex", "globex.com", &[&cloud], None),
        )
        .await;
    assert_eq!(
        error_code(&by_manager).as_deref(),
        Some("FORBIDDEN"),
        "registrations come from partners"
    );
}

const ACT: &str = "mutation($i: DealActionInput!) { NAME(input: $i) { dealRegistration { status resubmissionCount editableFields } userErrors { field code } } }";

fn act(name: &str) -> String {
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
async fn check_conflicts_is_a_batch_dry_run() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let analytics = product_id(&app, "PartnerGraph Analytics").await;
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Globex Corporation", "globex.com", &[&cloud], None),
    )
    .await;
    let before = count(&app, MANAGER).await;
    let check = "mutation($i: [CheckConflictsInput!]!) { checkConflicts(input: $i) { customerName conflicts { kind matchedOn registration { id } } } }";
    let result = app
        .gql_as(BOB_TIERTWO, check, json!({ "i": [
            { "customerName": "GLOBEX corp", "productIds": [cloud] },
            { "customerName": "Globex", "customerDomain": "eu.globex.com", "productIds": [analytics] },
            { "customerName": "Initech Inc", "productIds": [cloud] }
        ] }))
        .await;
    let checks = result["data"]["checkConflicts"].as_array().unwrap();
    assert_eq!(
        checks[0]["conflicts"][0]["kind"], "PARTNER_REGISTRATION",
        "{result}"
    );
    assert_eq!(
        checks[0]["conflicts"][0]["matchedOn"],
        json!(["name", "products"])
    );
    assert!(checks[0]["conflicts"][0]["registration"].is_null());
    assert_eq!(checks[1]["conflicts"], json!([]), "no product in common");
    assert_eq!(checks[2]["conflicts"][0]["kind"], "DIRECT_ACCOUNT");
    assert_eq!(
        count(&app, MANAGER).await,
        before,
        "a dry run registers nothing"
    );

    // A well-formed id of no product is refused, as registerDeal refuses it, not answered
    // with "no conflict".
    let missing = partnergraph::relay::global_id("Product", 999_999).to_string();
    let refused = app
        .gql_as(BOB_TIERTWO, "mutation($i: [CheckConflictsInput!]!) { checkConflicts(input: $i) { hasConflict userErrors { field code } } }", json!({ "i": [
            { "customerName": "GLOBEX corp", "productIds": [missing] },
            { "customerName": "GLOBEX corp", "productIds": [cloud] }
        ] }))
        .await;
    let answers = &refused["data"]["checkConflicts"];
    assert_eq!(
        answers[0]["userErrors"],
        json!([{ "field": "productIds.0", "code": "NOT_FOUND" }]),
        "{refused}"
    );
    assert_eq!(answers[1]["hasConflict"], true, "{refused}");
}

#[tokio::test]
async fn the_review_queue_puts_contested_customers_first_and_is_for_managers() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Lone Customer", "lone.example", &[&cloud], None),
    )
    .await;
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Contested Customer", "contested.example", &[&cloud], None),
    )
    .await;
    register(
        &app,
        BOB_TIERTWO,
        deal(
            "Contested Customer Inc",
            "contested.example",
            &[&cloud],
            None,
        ),
    )
    .await;
    let queue = app
        .gql_as(
            MANAGER,
            "{ dealReviewQueue(first: 20) { totalCount edges { node { customer { name } } } } }",
            json!({}),
        )
        .await;
    let names: Vec<_> = queue["data"]["dealReviewQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["customer"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names[0].starts_with("Contested") && names[1].starts_with("Contested"),
        "{names:?}"
    );
    assert!(names.contains(&"Lone Customer".to_string()));
    let denied = app
        .gql_as(DAVE_SUMMIT, "{ dealReviewQueue { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"));
}

/// The queue's customer names, in queue order, among `names`.
async fn queue_order(app: &TestApp, names: &[&str]) -> Vec<String> {
    let queue = app
        .gql_as(
            MANAGER,
            "{ dealReviewQueue(first: 100) { edges { node { customer { name } } } } }",
            json!({}),
        )
        .await;
    queue["data"]["dealReviewQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["customer"]["name"].as_str().unwrap().to_owned())
        .filter(|name| names.contains(&name.as_str()))
        .collect()
}

#[tokio::test]
async fn the_review_queue_follows_competition_as_it_starts_and_ends() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let names = [
        "Early Alone",
        "Later Rivalry",
        "Rival Bid",
        "Racing One",
        "Racing Two",
    ];
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Early Alone", "early.example", &[&cloud], None),
    )
    .await;
    let later = register(
        &app,
        ALICE_NORTHWIND,
        deal("Later Rivalry", "rivalry.example", &[&cloud], None),
    )
    .await;
    let later_id = later["dealRegistration"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        queue_order(&app, &names).await,
        ["Early Alone", "Later Rivalry"]
    );

    // Another partner's registration for the same customer moves both ahead.
    let rival = register(
        &app,
        BOB_TIERTWO,
        deal("Rival Bid", "rivalry.example", &[&cloud], None),
    )
    .await;
    let rival_id = rival["dealRegistration"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        queue_order(&app, &names).await,
        ["Later Rivalry", "Rival Bid", "Early Alone"]
    );

    // Approving one keeps the other competing (an approved registration holds the customer)...
    let approved = app
        .gql_as(
            MANAGER,
            APPROVE,
            json!({ "i": { "id": later_id, "protectionDays": 30 } }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveDealRegistration"]["dealRegistration"]["status"],
        "APPROVED"
    );
    assert_eq!(
        queue_order(&app, &names).await,
        ["Rival Bid", "Early Alone"]
    );

    // ...until its protection lapses and the expiry job ends it.
    entity::deal_registration::Entity::update_many()
        .col_expr(
            entity::deal_registration::Column::ProtectedUntil,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(entity::deal_registration::Column::CustomerName.eq("Later Rivalry"))
        .exec(&app.db)
        .await
        .unwrap();
    partnergraph::deals::service::expire_lapsed(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        queue_order(&app, &names).await,
        ["Early Alone", "Rival Bid"]
    );

    let withdrawn = app
        .gql_as(
            BOB_TIERTWO,
            &act("withdrawDealRegistration"),
            json!({ "i": { "id": rival_id } }),
        )
        .await;
    assert_eq!(
        withdrawn["data"]["withdrawDealRegistration"]["dealRegistration"]["status"],
        "WITHDRAWN"
    );
    assert_eq!(queue_order(&app, &names).await, ["Early Alone"]);

    // Two partners registering the same customer at once both see the other.
    tokio::join!(
        register(
            &app,
            ALICE_NORTHWIND,
            deal("Racing One", "racing.example", &[&cloud], None)
        ),
        register(
            &app,
            BOB_TIERTWO,
            deal("Racing Two", "racing.example", &[&cloud], None)
        ),
    );
    let order = queue_order(&app, &names).await;
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(order[2], "Early Alone", "{order:?}");
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

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  dealRegistrations(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id customer { name } } } } }";

async fn page(app: &TestApp, email: &str, args: Value) -> Value {
    let response = app.gql_as(email, PAGE, args).await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"]["dealRegistrations"].clone()
}

fn node_ids(connection: &Value) -> Vec<String> {
    let edges = connection["edges"].as_array().unwrap();
    edges
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_partner_pages_through_its_registrations_newest_first_both_ways() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let mut registered = Vec::new();
    for n in 0..5 {
        let mut input = deal(
            &format!("Paging Customer {n}"),
            &format!("paging{n}.example"),
            &[&cloud],
            None,
        );
        input["i"]["submit"] = json!(false);
        let payload = register(&app, ALICE_NORTHWIND, input).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        registered.push(
            payload["dealRegistration"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let all = page(&app, ALICE_NORTHWIND, json!({ "first": 100 })).await;
    let everything = node_ids(&all);
    assert_eq!(
        all["totalCount"].as_u64().unwrap() as usize,
        everything.len()
    );
    registered.reverse();
    assert_eq!(everything[..5], registered[..], "the newest first");

    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let p = page(&app, ALICE_NORTHWIND, json!({ "first": 2, "after": after })).await;
        forward.extend(node_ids(&p));
        if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, everything);

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let p = page(
            &app,
            ALICE_NORTHWIND,
            json!({ "last": 2, "before": before }),
        )
        .await;
        let mut ids = node_ids(&p);
        ids.extend(backward);
        backward = ids;
        if !p["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
            break;
        }
        before = p["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, everything);
}

/// The sum of a caller's registration totals by status: each counted from the rows.
async fn totals_by_status(app: &TestApp, email: &str) -> i64 {
    let statuses = app
        .gql_as(
            email,
            "{ __type(name: \"DealStatus\") { enumValues { name } } }",
            json!({}),
        )
        .await;
    let mut total = 0;
    for status in statuses["data"]["__type"]["enumValues"].as_array().unwrap() {
        let counted = app
            .gql_as(
                email,
                "query($s: DealStatus!) { dealRegistrations(filter: { status: $s }) { totalCount } }",
                json!({ "s": status["name"] }),
            )
            .await;
        total += counted["data"]["dealRegistrations"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{counted}"));
    }
    total
}

#[tokio::test]
async fn a_partners_kept_registration_count_agrees_with_its_rows() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    for (email, customer, domain) in [
        (
            ALICE_NORTHWIND,
            "Counted Widgets",
            "counted-widgets.example",
        ),
        (BOB_TIERTWO, "Tier Two Counted", "tier-two-counted.example"),
    ] {
        let before = count(&app, email).await;
        let made = register(&app, email, deal(customer, domain, &[&cloud], None)).await;
        assert!(made["dealRegistration"]["id"].is_string(), "{made}");
        assert_eq!(count(&app, email).await, before + 1, "{email}");
    }
    // The unfiltered total comes from the counts the database keeps; the totals by status
    // count rows. A distributor's total includes its tier-two partner's registrations.
    for email in [ALICE_NORTHWIND, DAVE_SUMMIT, BOB_TIERTWO] {
        let total = count(&app, email).await;
        assert!(total > 0, "{email}");
        assert_eq!(total, totals_by_status(&app, email).await, "{email}");
    }
    assert!(count(&app, DAVE_SUMMIT).await > count(&app, BOB_TIERTWO).await);
}

#[tokio::test]
async fn the_kept_counts_follow_registrations_moved_or_deleted_in_the_database() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::demo().await;
    let backend = app.db.get_database_backend();
    let rows = |sql: &str| {
        let statement = Statement::from_string(backend, sql.to_owned());
        let db = app.db.clone();
        async move {
            db.query_all(statement)
                .await
                .expect("query")
                .iter()
                .map(|row| {
                    (
                        row.try_get::<i64>("", "partner_id").expect("partner_id"),
                        row.try_get::<i64>("", "n").expect("n"),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let free = rows(
        "SELECT id AS n, partner_id FROM deal_registrations \
         WHERE id NOT IN (SELECT registration_id FROM incentive_awards) ORDER BY id LIMIT 2",
    )
    .await;
    let [(from, moved), (_, deleted)] = free[..] else {
        panic!("two registrations without awards: {free:?}");
    };
    let others = rows(&format!(
        "SELECT id AS partner_id, id AS n FROM partners WHERE id <> {from} ORDER BY id LIMIT 1"
    ))
    .await;
    let to = others[0].0;
    for change in [
        format!("UPDATE deal_registrations SET partner_id = {to} WHERE id = {moved}"),
        format!("DELETE FROM deal_registrations WHERE id = {deleted}"),
    ] {
        app.db.execute_unprepared(&change).await.expect("change");
    }
    let kept = rows(
        "SELECT partner_id, CAST(SUM(registrations) AS BIGINT) AS n \
         FROM partner_registration_counts GROUP BY partner_id \
         HAVING SUM(registrations) <> 0 ORDER BY partner_id",
    )
    .await;
    let counted = rows(
        "SELECT partner_id, COUNT(*) AS n FROM deal_registrations \
         GROUP BY partner_id ORDER BY partner_id",
    )
    .await;
    assert_eq!(kept, counted);
}

/// Channel staff find registrations by partner, statuses, customer (as the matcher
/// normalises it), product, dates and owner rep; `Partner.dealRegistrations` is the same
/// list for one partner, within what the caller may see.
#[tokio::test]
async fn registrations_are_found_by_the_filters_a_channel_team_uses() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let analytics = product_id(&app, "PartnerGraph Analytics").await;
    let northwind = partner_id(&app, "Northwind").await;
    let tiertwo = partner_id(&app, "TierTwo").await;
    let started = Utc::now();
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Globex Corporation", "globex.com", &[&cloud], None),
    )
    .await;
    let mut draft = deal("Zorblax Widgets", "zorblax.example", &[&analytics], None);
    draft["i"]["submit"] = json!(false);
    register(&app, ALICE_NORTHWIND, draft).await;
    let mut no_domain = deal("GLOBEX corp.", "", &[&cloud], None);
    no_domain["i"]["customerDomain"] = Value::Null;
    register(&app, BOB_TIERTWO, no_domain).await;
    register(
        &app,
        BOB_TIERTWO,
        deal("Initech", "initech.com", &[&cloud], None),
    )
    .await;

    let list = "query($f: DealRegistrationFilter) { dealRegistrations(first: 50, filter: $f) {
        totalCount edges { node { customer { name } partner { name } status } } } }";
    let names = |response: &Value| -> Vec<String> {
        let mut names: Vec<String> = response["data"]["dealRegistrations"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|e| e["node"]["customer"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let token = app.login(MANAGER).await;
    let find = |filter: Value| {
        let (app, token) = (&app, token.clone());
        async move { app.gql(Some(&token), list, json!({ "f": filter })).await }
    };

    let by_customer = find(json!({ "customer": "Globex Corp." })).await;
    assert_eq!(
        names(&by_customer),
        ["GLOBEX corp.", "Globex Corporation"],
        "{by_customer}"
    );
    let by_domain = find(json!({ "customer": "https://eu.globex.com/x" })).await;
    assert_eq!(names(&by_domain), ["Globex Corporation"]);
    let by_word = find(json!({ "customer": "globex", "partnerId": tiertwo })).await;
    assert_eq!(names(&by_word), ["GLOBEX corp."]);
    let drafts =
        find(json!({ "statuses": ["DRAFT"], "partnerId": northwind, "productId": analytics }))
            .await;
    assert_eq!(names(&drafts), ["Zorblax Widgets"]);
    let submitted = find(json!({ "submittedFrom": started.to_rfc3339() })).await;
    assert_eq!(
        names(&submitted),
        ["GLOBEX corp.", "Globex Corporation", "Initech"]
    );
    let none_yet =
        find(json!({ "submittedBefore": started.to_rfc3339(), "customer": "Initech" })).await;
    assert_eq!(names(&none_yet), Vec::<String>::new());
    let me = app.gql_as(REP, "{ me { id } }", json!({})).await;
    let rep = me["data"]["me"]["id"].clone();
    let owned = find(json!({ "ownerId": rep, "submittedFrom": started.to_rfc3339() })).await;
    assert_eq!(
        names(&owned),
        ["Initech"],
        "touching the rep's named account"
    );

    // One partner's list: the same rows as the filter, for those who may see the partner.
    let of_partner = "query($p: ID!) { node(id: $p) { ... on Partner { dealRegistrations(first: 50) { totalCount } } } }";
    let all_of_northwind = find(json!({ "partnerId": northwind })).await;
    let counted = app
        .gql(Some(&token), of_partner, json!({ "p": northwind }))
        .await;
    assert_eq!(
        counted["data"]["node"]["dealRegistrations"]["totalCount"],
        all_of_northwind["data"]["dealRegistrations"]["totalCount"],
        "{counted}"
    );
    // A partner asking for another partner's registrations gets none.
    let other = app
        .gql_as(
            ALICE_NORTHWIND,
            list,
            json!({ "f": { "partnerId": tiertwo } }),
        )
        .await;
    assert_eq!(
        other["data"]["dealRegistrations"]["totalCount"], 0,
        "{other}"
    );
}

#[tokio::test]
async fn has_conflicts_follows_competition_accounts_and_the_bands() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let started = Utc::now();
    let first = register(
        &app,
        ALICE_NORTHWIND,
        deal("Hooli XYZ", "hooli-xyz.example", &[&cloud], None),
    )
    .await;
    let later = register(
        &app,
        DAVE_SUMMIT,
        deal("HOOLI X.Y.Z. Inc", "www.hooli-xyz.example", &[&cloud], None),
    )
    .await;
    register(
        &app,
        BOB_TIERTWO,
        deal("Kramerica Industries", "kramerica.example", &[&cloud], None),
    )
    .await;
    let mut draft = deal("HOOLI XYZ", "hooli-xyz.example", &[&cloud], None);
    draft["i"]["submit"] = json!(false);
    register(&app, BOB_TIERTWO, draft).await;

    let list = "query($f: DealRegistrationFilter) { dealRegistrations(first: 50, filter: $f) {
        totalCount edges { node { id customer { name } conflicts { kind } possibleConflicts { kind } } } } }";
    let token = app.login(MANAGER).await;
    // The names found with `hasConflicts: flag` among this test's registrations; every one
    // found with `true` shows its conflicts, every one found with `false` shows none.
    let found = |flag: bool| {
        let (app, token) = (&app, token.clone());
        async move {
            let filter = json!({ "hasConflicts": flag, "submittedFrom": started.to_rfc3339() });
            let response = app.gql(Some(&token), list, json!({ "f": filter })).await;
            let edges = response["data"]["dealRegistrations"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{response}"))
                .clone();
            let mut names = Vec::new();
            for edge in edges {
                let conflicts = edge["node"]["conflicts"].as_array().unwrap().len()
                    + edge["node"]["possibleConflicts"].as_array().unwrap().len();
                assert_eq!(conflicts > 0, flag, "{edge}");
                names.push(
                    edge["node"]["customer"]["name"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            names.sort();
            names
        }
    };
    assert_eq!(
        found(true).await,
        ["HOOLI X.Y.Z. Inc"],
        "the later one conflicts"
    );
    assert_eq!(found(false).await, ["Hooli XYZ", "Kramerica Industries"]);
    // A partner finds its own conflicting registrations (a `MATCH` here), nobody else's.
    let mine = |email: &'static str| {
        let app = &app;
        async move {
            let filter = json!({ "hasConflicts": true, "submittedFrom": started.to_rfc3339() });
            let response = app
                .gql_as(
                    email,
                    "query($f: DealRegistrationFilter) { dealRegistrations(filter: $f) { totalCount } }",
                    json!({ "f": filter }),
                )
                .await;
            response["data"]["dealRegistrations"]["totalCount"].clone()
        }
    };
    assert_eq!(mine(DAVE_SUMMIT).await, 1);
    assert_eq!(mine(ALICE_NORTHWIND).await, 0);

    // A named direct account makes Kramerica's registration conflict.
    let me = app.gql_as(REP, "{ me { id } }", json!({})).await;
    let account = app
        .gql(
            Some(&token),
            "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } userErrors { message } } }",
            json!({ "i": { "name": "Kramerica Industries LLC", "domains": ["kramerica.example"],
                "ownership": "DIRECT", "ownerId": me["data"]["me"]["id"] } }),
        )
        .await;
    assert!(
        account["data"]["createAccount"]["account"]["id"].is_string(),
        "{account}"
    );
    assert_eq!(
        found(true).await,
        ["HOOLI X.Y.Z. Inc", "Kramerica Industries"]
    );

    // The first registration rejected, the later one no longer conflicts.
    let id = first["dealRegistration"]["id"].clone();
    let rejected = app
        .gql(
            Some(&token),
            &act("rejectDealRegistration"),
            json!({ "i": { "id": id, "reason": "duplicate" } }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectDealRegistration"]["dealRegistration"]["status"], "REJECTED",
        "{rejected}"
    );
    assert_eq!(found(true).await, ["Kramerica Industries"]);
    assert_eq!(
        found(false).await,
        ["HOOLI X.Y.Z. Inc", "Hooli XYZ"],
        "a rejected one has none"
    );

    // A name found inside another is a possible conflict; bands above its score make it
    // none, without assessing anything again (`found` checks the filter against the
    // conflicts shown).
    register(
        &app,
        ALICE_NORTHWIND,
        deal("Zorblax Plumbing", "", &[&cloud], None),
    )
    .await;
    register(&app, BOB_TIERTWO, deal("Zorblax", "", &[&cloud], None)).await;
    assert_eq!(found(true).await, ["Kramerica Industries", "Zorblax"]);
    let scored = app
        .gql(
            Some(&token),
            "query($f: DealRegistrationFilter) { dealRegistrations(filter: $f) { edges { node { conflicts { score } possibleConflicts { score } } } } }",
            json!({ "f": { "hasConflicts": true, "customer": "Zorblax" } }),
        )
        .await;
    let node = &scored["data"]["dealRegistrations"]["edges"][0]["node"];
    let score = [
        &node["conflicts"][0]["score"],
        &node["possibleConflicts"][0]["score"],
    ]
    .iter()
    .find_map(|score| score.as_f64())
    .unwrap_or_else(|| panic!("{scored}"));
    assert!(
        score < 1.0,
        "a name inside another is not certain: {scored}"
    );
    let set = "mutation($i: SetConflictBandsInput!) { setConflictBands(input: $i) { userErrors { field } } }";
    let above = (score + 1.0) / 2.0;
    let raised = app
        .gql(
            Some(&token),
            set,
            json!({ "i": { "matchAt": above, "possibleAt": above } }),
        )
        .await;
    assert_eq!(
        raised["data"]["setConflictBands"]["userErrors"],
        json!([]),
        "{raised}"
    );
    assert_eq!(found(true).await, ["Kramerica Industries"]);
    assert!(later["dealRegistration"]["id"].is_string());
}
