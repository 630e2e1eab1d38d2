//! Registering deals: conflict evidence at submission, idempotency keys, drafts, who sees
//! what, and bad input.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::*;

pub(crate) const REGISTER: &str = "mutation($i: RegisterDealInput!) { registerDeal(input: $i) {
  dealRegistration { id status protectedUntil customer { name domain } estimatedValue { amount currency }
    conflicts { kind score matchedOn rule registration { id } account { name } } }
  userErrors { field code message } } }";

pub(crate) const APPROVE: &str =
    "mutation($i: ApproveDealInput!) { approveDealRegistration(input: $i) {
  dealRegistration { id status protectedUntil approvedAt } userErrors { field code message } } }";

pub(crate) const COUNT: &str = "{ dealRegistrations { totalCount } }";

pub(crate) fn close_date(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

pub(crate) fn deal(customer: &str, domain: &str, products: &[&str], key: Option<&str>) -> Value {
    json!({ "i": {
        "customerName": customer, "customerDomain": domain, "customerCountry": "US",
        "productIds": products, "estimatedValue": { "amount": "120000.00", "currency": "USD" },
        "expectedCloseDate": close_date(45), "dealType": "NEW", "idempotencyKey": key, "submit": true
    } })
}

pub(crate) async fn register(app: &TestApp, email: &str, input: Value) -> Value {
    let response = app.gql_as(email, REGISTER, input).await;
    response["data"]["registerDeal"].clone()
}

pub(crate) async fn count(app: &TestApp, email: &str) -> i64 {
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
