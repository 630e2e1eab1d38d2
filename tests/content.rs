//! Enablement content: versions, the audience policy everywhere, freshness, search,
//! engagement, and file upload/download.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

use crate::common::*;

const CREATE: &str = "mutation($i: CreateContentInput!) { createContent(input: $i) {
  content { id title version tags audience { internalOnly minTierRank partnerTypes } }
  userErrors { field code message } } }";
const UPDATE: &str = "mutation($i: UpdateContentInput!) { updateContent(input: $i) {
  content { id title version versions { totalCount edges { node { version title changeNote author { email } } } } }
  userErrors { field code } } }";
const LIST: &str = "query($f: ContentFilterInput) { contents(first: 50, filter: $f) { totalCount edges { node { id title isExpired isStale } } } }";

async fn create(app: &TestApp, input: Value) -> String {
    let response = app.gql_as(MANAGER, CREATE, json!({ "i": input })).await;
    let payload = &response["data"]["createContent"];
    assert_eq!(payload["userErrors"], json!([]), "{response}");
    payload["content"]["id"].as_str().unwrap().to_owned()
}

fn titles(response: &Value) -> Vec<String> {
    response["data"]["contents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no contents: {response}"))
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn updates_create_versions_and_partners_get_the_current_one() {
    let app = TestApp::demo().await;
    let id = create(&app, json!({ "title": "Objection handling", "kind": "POSITIONING", "body": "v1 text", "tags": ["Objections"] })).await;
    let updated = app
        .gql_as(MANAGER, UPDATE, json!({ "i": { "id": id, "body": "v2 text about uptime", "title": "Objection handling (2026)", "changeNote": "new uptime numbers" } }))
        .await;
    let content = &updated["data"]["updateContent"]["content"];
    assert_eq!(content["version"], 2, "{updated}");
    assert_eq!(content["versions"]["totalCount"], 2);
    let versions = content["versions"]["edges"].as_array().unwrap();
    assert_eq!(versions[0]["node"]["title"], "Objection handling");
    assert_eq!(versions[1]["node"]["changeNote"], "new uptime numbers");
    assert_eq!(versions[1]["node"]["author"]["email"], MANAGER);

    let query = "query($id: ID!) { node(id: $id) { ... on Content { title body tags version versions { totalCount edges { node { version } } } } } }";
    let seen = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await["data"]["node"]
        .clone();
    assert_eq!(seen["body"], "v2 text about uptime");
    assert_eq!(
        seen["tags"],
        json!(["objections"]),
        "tags survive an update that does not touch them"
    );
    assert_eq!(
        seen["versions"]["totalCount"], 1,
        "partners get only the current version"
    );
    assert_eq!(seen["versions"]["edges"][0]["node"]["version"], 2);

    let missing = app
        .gql_as(
            MANAGER,
            UPDATE,
            json!({ "i": { "id": "Q29udGVudDo5OTk5", "title": "x" } }),
        )
        .await;
    assert_eq!(
        error_codes(&missing["data"]["updateContent"]),
        ["NOT_FOUND"]
    );
    let blank = app
        .gql_as(
            MANAGER,
            CREATE,
            json!({ "i": { "title": " ", "kind": "OTHER" } }),
        )
        .await;
    assert_eq!(error_fields(&blank["data"]["createContent"]), ["title"]);
    let forbidden = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE,
            json!({ "i": { "title": "x", "kind": "OTHER" } }),
        )
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn internal_and_higher_tier_items_are_invisible_to_a_registered_partner_everywhere() {
    let app = TestApp::demo().await;
    let internal = create(&app, json!({ "title": "Zebra internal memo", "kind": "OTHER", "body": "zebra margins", "audience": { "internalOnly": true } })).await;
    let gold = create(&app, json!({ "title": "Zebra gold playbook", "kind": "POSITIONING", "body": "zebra plays", "audience": { "minTierRank": 3 } })).await;
    let open = create(
        &app,
        json!({ "title": "Zebra open brief", "kind": "POSITIONING", "body": "zebra basics" }),
    )
    .await;

    // Bob's TierTwo is Registered (rank 1).
    let search = json!({ "f": { "search": "zebra" } });
    assert_eq!(
        titles(&app.gql_as(BOB_TIERTWO, LIST, search.clone()).await),
        ["Zebra open brief"]
    );
    let listed = titles(&app.gql_as(BOB_TIERTWO, LIST, json!({})).await);
    assert!(listed.contains(&"Zebra open brief".to_string()));
    assert!(
        !listed
            .iter()
            .any(|t| t == "Zebra internal memo" || t == "Zebra gold playbook"),
        "{listed:?}"
    );
    let node = "query($id: ID!) { node(id: $id) { id } }";
    for id in [&internal, &gold] {
        assert!(app.gql_as(BOB_TIERTWO, node, json!({ "id": id })).await["data"]["node"].is_null());
    }
    assert!(!app.gql_as(BOB_TIERTWO, node, json!({ "id": open })).await["data"]["node"].is_null());
    // Counts follow the same policy.
    let count = |email: &'static str| {
        let app = &app;
        let search = search.clone();
        async move {
            app.gql_as(email, LIST, search).await["data"]["contents"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count(BOB_TIERTWO).await, 1);
    assert_eq!(
        count(DAVE_SUMMIT).await,
        2,
        "Gold sees the Gold playbook, not the internal memo"
    );
    assert_eq!(count(MANAGER).await, 3);
    assert_eq!(count(REP).await, 3);
    let mut manager_view = titles(&app.gql_as(MANAGER, LIST, search).await);
    manager_view.sort();
    assert_eq!(
        manager_view,
        [
            "Zebra gold playbook",
            "Zebra internal memo",
            "Zebra open brief"
        ]
    );
    // Recording an event on an invisible item is refused as not found.
    let record = "mutation($i: RecordContentEventInput!) { recordContentEvent(input: $i) { recorded userErrors { code } } }";
    let refused = app
        .gql_as(
            BOB_TIERTWO,
            record,
            json!({ "i": { "contentId": gold, "kind": "VIEW" } }),
        )
        .await;
    assert_eq!(
        error_codes(&refused["data"]["recordContentEvent"]),
        ["NOT_FOUND"]
    );
}

#[tokio::test]
async fn audience_dimensions_restrict_by_type_region_and_vertical() {
    let app = TestApp::demo().await;
    // Northwind: RESELLER, NA, verticals RETAIL + HEALTHCARE. Summit: DISTRIBUTOR, EMEA.
    create(&app, json!({ "title": "Quokka for distributors", "kind": "OTHER", "body": "quokka", "audience": { "partnerTypes": ["DISTRIBUTOR"] } })).await;
    create(&app, json!({ "title": "Quokka for EMEA", "kind": "OTHER", "body": "quokka", "audience": { "regions": ["emea"] } })).await;
    create(&app, json!({ "title": "Quokka for healthcare", "kind": "OTHER", "body": "quokka", "audience": { "verticals": ["Healthcare"] } })).await;
    // Every dimension an item names must admit the viewer; within one, any value will do.
    create(&app, json!({ "title": "Quokka for EMEA distributors", "kind": "OTHER", "body": "quokka", "audience": { "partnerTypes": ["DISTRIBUTOR"], "regions": ["emea"] } })).await;
    create(&app, json!({ "title": "Quokka for EMEA resellers", "kind": "OTHER", "body": "quokka", "audience": { "partnerTypes": ["RESELLER"], "regions": ["emea"] } })).await;
    create(&app, json!({ "title": "Quokka for retail or energy partners", "kind": "OTHER", "body": "quokka", "audience": { "partnerTypes": ["RESELLER", "MSP"], "verticals": ["Energy", "Retail"] } })).await;
    let search = json!({ "f": { "search": "quokka" } });
    let mut alice = titles(&app.gql_as(ALICE_NORTHWIND, LIST, search.clone()).await);
    alice.sort();
    assert_eq!(
        alice,
        [
            "Quokka for healthcare",
            "Quokka for retail or energy partners"
        ]
    );
    let mut dave = titles(&app.gql_as(DAVE_SUMMIT, LIST, search).await);
    dave.sort();
    assert_eq!(
        dave,
        [
            "Quokka for EMEA",
            "Quokka for EMEA distributors",
            "Quokka for distributors"
        ]
    );
}

#[tokio::test]
async fn expired_items_vanish_for_partners_and_are_flagged_for_managers() {
    let app = TestApp::demo().await;
    let search = json!({ "f": { "search": "double SPIFF" } });
    assert!(titles(&app.gql_as(ALICE_NORTHWIND, LIST, search.clone()).await).is_empty());
    let managers = app.gql_as(MANAGER, LIST, search).await;
    let item = &managers["data"]["contents"]["edges"][0]["node"];
    assert_eq!(item["title"], "2025 promotion: double SPIFF");
    assert_eq!(item["isExpired"], true);
    assert_eq!(item["isStale"], true);
    let queue = app
        .gql_as(
            MANAGER,
            "{ contentReviewQueue { totalCount edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(queue["data"]["contentReviewQueue"]["totalCount"], 1);
    let denied = app
        .gql_as(
            ALICE_NORTHWIND,
            "{ contentReviewQueue { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&denied).as_deref(), Some("FORBIDDEN"));

    // An item that expires later is visible until then.
    let soon = create(&app, json!({ "title": "Flash offer", "kind": "OTHER", "body": "offer", "expiresAt": "2999-01-01T00:00:00Z" })).await;
    let node = "query($id: ID!) { node(id: $id) { ... on Content { isExpired } } }";
    assert_eq!(
        app.gql_as(ALICE_NORTHWIND, node, json!({ "id": soon }))
            .await["data"]["node"]["isExpired"],
        false
    );
    let past = app.gql_as(MANAGER, CREATE, json!({ "i": { "title": "Old", "kind": "OTHER", "expiresAt": "2001-01-01T00:00:00Z" } })).await;
    assert_eq!(error_fields(&past["data"]["createContent"]), ["expiresAt"]);
}

#[tokio::test]
async fn search_finds_a_word_of_the_body_ranks_titles_first_and_combines_with_filters() {
    let app = TestApp::demo().await;
    let found = titles(
        &app.gql_as(
            ALICE_NORTHWIND,
            LIST,
            json!({ "f": { "search": "landmines" } }),
        )
        .await,
    );
    assert_eq!(found, ["Battle card: PartnerGraph vs. Globex Suite"]);
    // Stemming: "bundles" in the body matches "bundle".
    let stemmed = titles(
        &app.gql_as(
            ALICE_NORTHWIND,
            LIST,
            json!({ "f": { "search": "bundle" } }),
        )
        .await,
    );
    assert_eq!(stemmed, ["Battle card: PartnerGraph vs. Globex Suite"]);

    create(&app, json!({ "title": "Wombat pricing guide", "kind": "PRICE_SHEET", "body": "general notes", "tags": ["wombat"] })).await;
    create(&app, json!({ "title": "General notes", "kind": "CASE_STUDY", "body": "a wombat appears once in this long body of text" })).await;
    let ranked = titles(
        &app.gql_as(MANAGER, LIST, json!({ "f": { "search": "wombat" } }))
            .await,
    );
    assert_eq!(
        ranked,
        ["Wombat pricing guide", "General notes"],
        "a title match outranks a body match"
    );
    let by_kind = titles(
        &app.gql_as(
            MANAGER,
            LIST,
            json!({ "f": { "search": "wombat", "kind": "CASE_STUDY" } }),
        )
        .await,
    );
    assert_eq!(by_kind, ["General notes"]);
    let by_tag = titles(
        &app.gql_as(MANAGER, LIST, json!({ "f": { "tag": "WOMBAT" } }))
            .await,
    );
    assert_eq!(by_tag, ["Wombat pricing guide"]);
    let odd = app
        .gql_as(
            MANAGER,
            LIST,
            json!({ "f": { "search": "\"unbalanced NEAR( OR *" } }),
        )
        .await;
    assert!(
        odd.get("errors").is_none(),
        "search syntax is never passed through: {odd}"
    );

    let later = app
        .gql_as(
            MANAGER,
            LIST,
            json!({ "f": { "updatedSince": "2999-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(later["data"]["contents"]["totalCount"], 0);
}

#[tokio::test]
async fn label_filters_combine_with_each_other_with_search_and_with_the_audience() {
    let app = TestApp::demo().await;
    // Northwind (Alice) is a RESELLER in NA; the EMEA item is not hers to see.
    create(&app, json!({ "title": "Numbat sizing for retail", "kind": "PRICE_SHEET", "body": "numbat", "tags": ["sizing"], "products": ["Numbat Core"], "verticals": ["Retail"] })).await;
    create(&app, json!({ "title": "Numbat sizing for banks", "kind": "PRICE_SHEET", "body": "numbat", "products": ["Numbat Core"], "verticals": ["Financial Services"] })).await;
    create(&app, json!({ "title": "Numbat add-on brief", "kind": "OTHER", "body": "numbat", "products": ["Numbat Plus"], "verticals": ["Retail"] })).await;
    create(&app, json!({ "title": "Numbat retail in EMEA", "kind": "OTHER", "body": "numbat", "products": ["Numbat Core"], "verticals": ["Retail"], "audience": { "regions": ["EMEA"] } })).await;
    let list = "query($f: ContentFilterInput) { contents(first: 50, filter: $f) {
      totalCount edges { node { title tags products verticals } } } }";
    let sorted = |response: Value| {
        let mut found = titles(&response);
        found.sort();
        found
    };
    let as_alice = |filter: Value| app.gql_as(ALICE_NORTHWIND, list, json!({ "f": filter }));

    let core = sorted(as_alice(json!({ "product": " numbat core " })).await);
    assert_eq!(
        core,
        ["Numbat sizing for banks", "Numbat sizing for retail"]
    );
    let retail = sorted(as_alice(json!({ "vertical": "retail" })).await);
    assert_eq!(retail, ["Numbat add-on brief", "Numbat sizing for retail"]);
    let both =
        as_alice(json!({ "product": "Numbat Core", "vertical": "Retail", "search": "numbat" }))
            .await;
    assert_eq!(titles(&both), ["Numbat sizing for retail"], "{both}");
    let item = &both["data"]["contents"]["edges"][0]["node"];
    assert_eq!(item["tags"], json!(["sizing"]));
    assert_eq!(item["products"], json!(["numbat core"]));
    assert_eq!(item["verticals"], json!(["RETAIL"]));
    assert_eq!(both["data"]["contents"]["totalCount"], 1);

    let by_kind = as_alice(json!({ "kind": "OTHER", "tag": "sizing" })).await;
    assert_eq!(titles(&by_kind), Vec::<String>::new(), "{by_kind}");
    let managers = app
        .gql_as(
            MANAGER,
            list,
            json!({ "f": { "product": "numbat core", "vertical": "RETAIL" } }),
        )
        .await;
    assert_eq!(
        sorted(managers),
        ["Numbat retail in EMEA", "Numbat sizing for retail"]
    );
    let no_words = as_alice(json!({ "search": "*** ((", "product": "numbat core" })).await;
    assert_eq!(no_words["data"]["contents"]["totalCount"], 0, "{no_words}");
}

#[tokio::test]
async fn search_results_page_both_ways_in_rank_order_and_count_only_what_the_caller_may_see() {
    let app = TestApp::demo().await;
    for n in 1..=3 {
        create(
            &app,
            json!({ "title": format!("Koala field guide {n}"), "kind": "OTHER", "body": "notes" }),
        )
        .await;
    }
    for n in 1..=4 {
        create(&app, json!({ "title": format!("Marsupial memo {n}"), "kind": "OTHER", "body": format!("a koala appears in memo {n} once") })).await;
    }
    create(&app, json!({ "title": "Koala internal plan", "kind": "OTHER", "body": "koala", "audience": { "internalOnly": true } })).await;

    let page = "query($f: ContentFilterInput, $first: Int, $after: String, $last: Int) {
        contents(first: $first, after: $after, last: $last, filter: $f) {
          totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { title } } } }";
    let search = json!({ "search": "koala" });
    let everything = titles(
        &app.gql_as(ALICE_NORTHWIND, page, json!({ "f": search, "first": 50 }))
            .await,
    );
    assert_eq!(
        everything.len(),
        7,
        "the internal plan stays hidden: {everything:?}"
    );
    assert!(
        everything[..3]
            .iter()
            .all(|t| t.starts_with("Koala field guide")),
        "title matches first: {everything:?}"
    );

    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = app
            .gql_as(
                ALICE_NORTHWIND,
                page,
                json!({ "f": search, "first": 3, "after": after }),
            )
            .await;
        let contents = &response["data"]["contents"];
        assert_eq!(contents["totalCount"], 7, "after {after}: {response}");
        paged.extend(titles(&response));
        if contents["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = contents["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(paged, everything, "pages join up in rank order");

    let tail = app
        .gql_as(ALICE_NORTHWIND, page, json!({ "f": search, "last": 2 }))
        .await;
    assert_eq!(titles(&tail), everything[5..].to_vec(), "{tail}");
    assert_eq!(
        tail["data"]["contents"]["pageInfo"]["hasPreviousPage"],
        true
    );
}

#[tokio::test]
async fn engagement_counts_views_downloads_shares_and_partners() {
    let app = TestApp::demo().await;
    let id = create(
        &app,
        json!({ "title": "Engaging deck", "kind": "OTHER", "body": "b" }),
    )
    .await;
    let record = "mutation($i: RecordContentEventInput!) { recordContentEvent(input: $i) { recorded userErrors { code } } }";
    for (email, kind) in [
        (ALICE_NORTHWIND, "VIEW"),
        (ALICE_NORTHWIND, "VIEW"),
        (DAVE_SUMMIT, "VIEW"),
        (DAVE_SUMMIT, "DOWNLOAD"),
        (BOB_TIERTWO, "SHARE"),
    ] {
        let response = app
            .gql_as(
                email,
                record,
                json!({ "i": { "contentId": id, "kind": kind } }),
            )
            .await;
        assert_eq!(
            response["data"]["recordContentEvent"]["recorded"], true,
            "{response}"
        );
    }
    let query = "query($id: ID!) { node(id: $id) { ... on Content { engagement { views downloads shares uniqueUsers uniquePartners } } } }";
    let engagement =
        app.gql_as(MANAGER, query, json!({ "id": id })).await["data"]["node"]["engagement"].clone();
    assert_eq!(
        engagement,
        json!({ "views": 3, "downloads": 1, "shares": 1, "uniqueUsers": 3, "uniquePartners": 3 })
    );
    let future = app
        .gql_as(MANAGER, "query($id: ID!) { node(id: $id) { ... on Content { engagement(since: \"2999-01-01T00:00:00Z\") { views } } } }", json!({ "id": id }))
        .await;
    assert_eq!(future["data"]["node"]["engagement"]["views"], 0);
    let partner_view = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await;
    assert_eq!(
        error_code(&partner_view).as_deref(),
        Some("FORBIDDEN"),
        "engagement is for vendor staff"
    );

    let northwind = partner_id(&app, "Northwind").await;
    let per_partner = app
        .gql_as(
            MANAGER,
            "query($p: ID!) { partnerContentEngagement(partnerId: $p) { views uniqueContents } }",
            json!({ "p": northwind }),
        )
        .await;
    assert_eq!(
        per_partner["data"]["partnerContentEngagement"],
        json!({ "views": 2, "uniqueContents": 1 })
    );
}

fn multipart(token: &str, operations: Value, filename: &str, bytes: &[u8]) -> Request<Body> {
    let boundary = "partnergraph-test-boundary";
    let mut body = Vec::new();
    let mut part = |name: &str, extra: &str, content: &[u8]| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("operations", "", operations.to_string().as_bytes());
    part("map", "", br#"{"0": ["variables.i.file"]}"#);
    part(
        "0",
        &format!("; filename=\"{filename}\"\r\nContent-Type: application/octet-stream"),
        bytes,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Request::post("/graphql")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap()
}

const UPLOAD: &str = "mutation($i: CreateContentInput!) { createContent(input: $i) {
  content { id file { filename contentType sizeBytes sha256 downloadUrl } } userErrors { field code message } } }";

#[tokio::test]
async fn files_upload_and_download_only_through_authorized_links() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let pdf = b"%PDF-1.4 battle card bytes".to_vec();
    let operations = json!({ "query": UPLOAD, "variables": { "i": { "title": "Card as PDF", "kind": "BATTLE_CARD", "file": null, "audience": { "minTierRank": 2 } } } });
    let response = app
        .send(multipart(&manager, operations.clone(), "card.pdf", &pdf))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    let file = body["data"]["createContent"]["content"]["file"].clone();
    assert_eq!(file["filename"], "card.pdf", "{body}");
    assert_eq!(file["contentType"], "application/pdf");
    assert_eq!(file["sizeBytes"], pdf.len());
    assert_eq!(file["sha256"].as_str().unwrap().len(), 64);
    let id = body["data"]["createContent"]["content"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Alice (Silver, rank 2) is entitled: her own link downloads the exact bytes.
    let query = "query($id: ID!) { node(id: $id) { ... on Content { file { downloadUrl } } } }";
    let alice_url = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": id }))
        .await["data"]["node"]["file"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let download = app
        .send(Request::get(&alice_url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, pdf);
    assert_eq!(download.content_type(), "application/pdf");
    let engagement = app
        .gql_as(
            MANAGER,
            "query($id: ID!) { node(id: $id) { ... on Content { engagement { downloads } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        engagement["data"]["node"]["engagement"]["downloads"], 1,
        "downloads are counted"
    );

    // A tampered link, or a manager's link once the item is out of reach, fails.
    let tampered = format!("{}x", alice_url);
    assert_eq!(
        app.send(Request::get(&tampered).body(Body::empty()).unwrap())
            .await
            .status,
        404
    );
    let manager_url = app.gql_as(MANAGER, query, json!({ "id": id })).await["data"]["node"]["file"]
        ["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.send(Request::get(&manager_url).body(Body::empty()).unwrap())
            .await
            .status,
        200
    );
    // Bob (Registered) cannot even see the item, so he never gets a link.
    assert!(app.gql_as(BOB_TIERTWO, query, json!({ "id": id })).await["data"]["node"].is_null());
    // Raising the tier requirement above Silver revokes Alice's existing link.
    app.gql_as(
        MANAGER,
        "mutation($i: UpdateContentInput!) { updateContent(input: $i) { content { id } } }",
        json!({ "i": { "id": id, "audience": { "minTierRank": 3 } } }),
    )
    .await;
    assert_eq!(
        app.send(Request::get(&alice_url).body(Body::empty()).unwrap())
            .await
            .status,
        404
    );

    // Refused types and empty files are user errors; nothing is created.
    let exe = app
        .send(multipart(&manager, operations.clone(), "tool.exe", b"MZ"))
        .await
        .json();
    assert_eq!(
        error_fields(&exe["data"]["createContent"]),
        ["file"],
        "{exe}"
    );
    let empty = app
        .send(multipart(&manager, operations, "empty.pdf", b""))
        .await
        .json();
    assert_eq!(error_fields(&empty["data"]["createContent"]), ["file"]);
}
