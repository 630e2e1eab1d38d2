//! Channel conflict as the vendor reviews it: `checkConflicts` dry runs, the review queue's
//! lanes and `hasConflicts`.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::common::*;
use crate::deal_workflow::act;
use crate::deals::{count, deal, register, APPROVE};

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
