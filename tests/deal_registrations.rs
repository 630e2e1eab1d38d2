//! The `dealRegistrations` list: paging both ways, the kept counts and the filters a
//! channel team uses.

use chrono::Utc;
use serde_json::{json, Value};

use crate::common::*;
use crate::deals::{count, deal, register};

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
