//! The partner program: partners, lifecycle, tiers and promotion, visibility, onboarding.

use serde_json::{json, Value};

use crate::common::*;

const CREATE_PARTNER: &str = "mutation($i: CreatePartnerInput!) { createPartner(input: $i) {
  partner { id name type status version domains website country region verticals tier { name } onboarding { totalCount } }
  userErrors { field message code } } }";

pub(crate) const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) {
  user { id email role isOrgAdmin partner { name } } userErrors { field message code } } }";

async fn partner_count(app: &TestApp) -> i64 {
    app.gql_as(MANAGER, "{ partners { totalCount } }", json!({}))
        .await["data"]["partners"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_manager_creates_a_partner_and_a_user_who_sees_only_it() {
    let app = TestApp::demo().await;
    let created = app
        .gql_as(MANAGER, CREATE_PARTNER, json!({ "i": { "name": "Acme Resale", "type": "VAR", "website": "https://www.acme-resale.example/about" } }))
        .await;
    let payload = &created["data"]["createPartner"];
    assert_eq!(payload["userErrors"], json!([]), "{created}");
    let partner = &payload["partner"];
    assert_eq!(partner["type"], "VAR");
    assert_eq!(partner["status"], "ONBOARDING");
    assert_eq!(partner["domains"], json!(["acme-resale.example"]));
    assert_eq!(
        partner["tier"]["name"], "Registered",
        "new partners join the entry tier"
    );
    assert_eq!(
        partner["onboarding"]["totalCount"], 5,
        "the checklist is copied from the template"
    );
    let partner_id = partner["id"].as_str().unwrap();

    let user = app
        .gql_as(MANAGER, CREATE_USER, json!({ "i": { "email": "erin@acme-resale.example", "name": "Erin", "role": "PARTNER", "partnerId": partner_id, "password": "a-good-long-password" } }))
        .await;
    assert_eq!(
        user["data"]["createUser"]["userErrors"],
        json!([]),
        "{user}"
    );
    assert_eq!(
        user["data"]["createUser"]["user"]["partner"]["name"],
        "Acme Resale"
    );

    let token = login_on(
        &app.router,
        "erin@acme-resale.example",
        "a-good-long-password",
    )
    .await;
    let seen = app
        .gql(
            Some(&token),
            "{ partners(first: 50) { totalCount edges { node { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(seen["data"]["partners"]["totalCount"], 1);
    assert_eq!(
        seen["data"]["partners"]["edges"][0]["node"]["id"],
        partner_id
    );
}

#[tokio::test]
async fn only_channel_managers_create_partners() {
    let app = TestApp::demo().await;
    let input = json!({ "i": { "name": "Nope", "type": "VAR" } });
    for email in [ALICE_NORTHWIND, REP] {
        let response = app.gql_as(email, CREATE_PARTNER, input.clone()).await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("FORBIDDEN"),
            "{email}"
        );
    }
    let anonymous = app.gql(None, CREATE_PARTNER, input).await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(partner_count(&app).await, 6, "nothing was created");
}

#[tokio::test]
async fn bad_partner_input_is_reported_field_by_field_and_creates_nothing() {
    let app = TestApp::demo().await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let northwind = partner_id(&app, "Northwind").await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "name": "  ", "type": "VAR" }), "name", "REQUIRED"),
        (
            json!({ "name": "X", "type": "VAR", "website": "not a site" }),
            "website",
            "INVALID",
        ),
        (
            json!({ "name": "X", "type": "VAR", "domains": ["ok.example", "bad domain"] }),
            "domains.1",
            "INVALID",
        ),
        (
            json!({ "name": "X", "type": "VAR", "website": "https://northwind.example" }),
            "domains",
            "TAKEN",
        ),
        (
            json!({ "name": "X", "type": "VAR", "country": "USA" }),
            "country",
            "INVALID",
        ),
        (
            json!({ "name": "X", "type": "VAR", "parentId": northwind }),
            "parentId",
            "RULE_VIOLATION",
        ),
        (
            json!({ "name": "X", "type": "VAR", "parentId": "UGFydG5lcjo5OTk5" }),
            "parentId",
            "NOT_FOUND",
        ),
        (
            json!({ "name": "X", "type": "VAR", "status": "TERMINATED" }),
            "status",
            "INVALID",
        ),
    ];
    for (input, field, code) in cases {
        let response = app
            .gql_as(MANAGER, CREATE_PARTNER, json!({ "i": input }))
            .await;
        let payload = &response["data"]["createPartner"];
        assert!(payload["partner"].is_null(), "{input}: {response}");
        assert!(
            error_fields(payload).contains(&field.to_string()),
            "{input}: {response}"
        );
        assert!(
            error_codes(payload).contains(&code.to_string()),
            "{input}: {response}"
        );
    }
    assert_eq!(partner_count(&app).await, 6);
    // A valid tier-two partner under a distributor is fine.
    let ok = app
        .gql_as(
            MANAGER,
            CREATE_PARTNER,
            json!({ "i": { "name": "Sub", "type": "RESELLER", "parentId": summit } }),
        )
        .await;
    assert_eq!(ok["data"]["createPartner"]["userErrors"], json!([]));
}

const UPDATE_PARTNER: &str = "mutation($i: UpdatePartnerInput!) { updatePartner(input: $i) {
  partner { name version verticals region parent { name } } userErrors { field code message } } }";

#[tokio::test]
async fn updates_use_optimistic_versions_and_refuse_cycles() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let read = app
        .gql_as(
            MANAGER,
            "query($id: ID!) { partner(id: $id) { version } }",
            json!({ "id": northwind }),
        )
        .await;
    let version = read["data"]["partner"]["version"].as_i64().unwrap();

    let updated = app
        .gql_as(MANAGER, UPDATE_PARTNER, json!({ "i": { "id": northwind, "version": version, "name": "Northwind Traders", "verticals": ["Retail", "education"], "region": "na" } }))
        .await;
    let payload = &updated["data"]["updatePartner"];
    assert_eq!(payload["userErrors"], json!([]), "{updated}");
    assert_eq!(payload["partner"]["name"], "Northwind Traders");
    assert_eq!(
        payload["partner"]["verticals"],
        json!(["RETAIL", "EDUCATION"])
    );
    assert_eq!(payload["partner"]["region"], "NA");
    assert_eq!(payload["partner"]["version"], version + 1);

    // A second writer holding the old version loses, and changes nothing.
    let stale = app
        .gql_as(
            MANAGER,
            UPDATE_PARTNER,
            json!({ "i": { "id": northwind, "version": version, "name": "Lost Update" } }),
        )
        .await;
    assert_eq!(
        error_codes(&stale["data"]["updatePartner"]),
        ["STALE_VERSION"]
    );
    let now = app
        .gql_as(
            MANAGER,
            "query($id: ID!) { partner(id: $id) { name } }",
            json!({ "id": northwind }),
        )
        .await;
    assert_eq!(now["data"]["partner"]["name"], "Northwind Traders");

    // Summit <- new distributor D; making D Summit's parent would loop.
    let summit = partner_id(&app, "Summit Distribution").await;
    let d = app
        .gql_as(
            MANAGER,
            CREATE_PARTNER,
            json!({ "i": { "name": "Regional Dist", "type": "DISTRIBUTOR", "parentId": summit } }),
        )
        .await;
    let d_id = d["data"]["createPartner"]["partner"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let summit_version = app
        .gql_as(
            MANAGER,
            "query($id: ID!) { partner(id: $id) { version } }",
            json!({ "id": summit }),
        )
        .await["data"]["partner"]["version"]
        .clone();
    let cycle = app
        .gql_as(
            MANAGER,
            UPDATE_PARTNER,
            json!({ "i": { "id": summit, "version": summit_version, "parentId": d_id } }),
        )
        .await;
    let payload = &cycle["data"]["updatePartner"];
    assert_eq!(error_fields(payload), ["parentId"], "{cycle}");
    assert_eq!(error_codes(payload), ["RULE_VIOLATION"]);
    let itself = app
        .gql_as(
            MANAGER,
            UPDATE_PARTNER,
            json!({ "i": { "id": d_id, "version": 1, "parentId": d_id } }),
        )
        .await;
    assert_eq!(
        error_codes(&itself["data"]["updatePartner"]),
        ["RULE_VIOLATION"]
    );
}

const CHANGE_STATUS: &str = "mutation($i: ChangePartnerStatusInput!) { changePartnerStatus(input: $i) {
  partner { status allowedTransitions statusHistory(first: 20) { edges { node { fromStatus toStatus reason actor { email } } } } }
  userErrors { field code message } } }";

#[tokio::test]
async fn the_lifecycle_allows_only_listed_transitions_and_keeps_history() {
    let app = TestApp::demo().await;
    let fabrikam = partner_id(&app, "Fabrikam Integrators").await;
    let query = "query($id: ID!) { partner(id: $id) { status allowedTransitions } }";
    let seen = app.gql_as(MANAGER, query, json!({ "id": fabrikam })).await;
    assert_eq!(
        seen["data"]["partner"]["allowedTransitions"],
        json!(["ACTIVE", "TERMINATED"])
    );

    let illegal = app
        .gql_as(
            MANAGER,
            CHANGE_STATUS,
            json!({ "i": { "id": fabrikam, "status": "DORMANT" } }),
        )
        .await;
    let payload = &illegal["data"]["changePartnerStatus"];
    assert_eq!(error_fields(payload), ["status"]);
    assert_eq!(error_codes(payload), ["ILLEGAL_TRANSITION"]);

    let moved = app
        .gql_as(
            MANAGER,
            CHANGE_STATUS,
            json!({ "i": { "id": fabrikam, "status": "ACTIVE", "reason": "checklist done" } }),
        )
        .await;
    let partner = &moved["data"]["changePartnerStatus"]["partner"];
    assert_eq!(partner["status"], "ACTIVE", "{moved}");
    assert_eq!(
        partner["allowedTransitions"],
        json!(["DORMANT", "TERMINATED"])
    );
    let history = partner["statusHistory"]["edges"].as_array().unwrap();
    let last = &history.last().unwrap()["node"];
    assert_eq!(
        (last["fromStatus"].as_str(), last["toStatus"].as_str()),
        (Some("ONBOARDING"), Some("ACTIVE"))
    );
    assert_eq!(last["reason"], "checklist done");
    assert_eq!(last["actor"]["email"], MANAGER);
    assert_eq!(
        history[0]["node"]["fromStatus"],
        Value::Null,
        "the first entry records creation"
    );

    let partner_view = app
        .gql_as(
            BOB_TIERTWO,
            query,
            json!({ "id": partner_id(&app, "TierTwo").await }),
        )
        .await;
    assert_eq!(
        partner_view["data"]["partner"]["allowedTransitions"],
        json!([]),
        "partners cannot move themselves"
    );
    let forbidden = app
        .gql_as(
            DAVE_SUMMIT,
            CHANGE_STATUS,
            json!({ "i": { "id": fabrikam, "status": "TERMINATED" } }),
        )
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn terminating_a_partner_ends_its_users_access() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let done = app
        .gql_as(
            MANAGER,
            CHANGE_STATUS,
            json!({ "i": { "id": northwind, "status": "TERMINATED", "reason": "contract ended" } }),
        )
        .await;
    assert_eq!(
        done["data"]["changePartnerStatus"]["partner"]["status"],
        "TERMINATED"
    );
    let response = app
        .post(Some(&alice), json!({ "query": "{ me { id } }" }))
        .await;
    assert_eq!(response.status, 401);
    let again = app
        .gql(
            None,
            LOGIN,
            json!({ "i": { "email": ALICE_NORTHWIND, "password": DEMO_PASSWORD } }),
        )
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("FORBIDDEN"), "{again}");
    let after = app
        .gql_as(
            MANAGER,
            CHANGE_STATUS,
            json!({ "i": { "id": northwind, "status": "ACTIVE" } }),
        )
        .await;
    assert_eq!(
        error_codes(&after["data"]["changePartnerStatus"]),
        ["ILLEGAL_TRANSITION"],
        "terminated is final"
    );
}

const PROGRESS: &str = "query($id: ID!) { partner(id: $id) { tier { name } tierProgress {
  currentTier { name } nextTier { name } eligibleForPromotion eligibleTier { name }
  criteria { criterion required actual met } } } }";

#[tokio::test]
async fn tiers_are_ranked_and_only_managers_define_them() {
    let app = TestApp::demo().await;
    let tiers = app
        .gql_as(BOB_TIERTWO, "{ tiers { edges { node { name rank benefits { dealProtectionDays rebateEligible mdfEligible contentEntitlementRank } criteria { minWonRevenue { amount currency } } } } } }", json!({}))
        .await;
    let names: Vec<_> = tiers["data"]["tiers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Registered", "Silver", "Gold", "Platinum"]);
    let gold = &tiers["data"]["tiers"]["edges"][2]["node"];
    assert_eq!(
        gold["benefits"],
        json!({ "dealProtectionDays": 90, "rebateEligible": true, "mdfEligible": true, "contentEntitlementRank": 3 })
    );
    assert_eq!(
        gold["criteria"]["minWonRevenue"],
        json!({ "amount": "250000.00", "currency": "USD" })
    );

    for (email, name, tier) in [
        (ALICE_NORTHWIND, "Northwind", "Silver"),
        (DAVE_SUMMIT, "Summit Distribution", "Gold"),
        (BOB_TIERTWO, "TierTwo", "Registered"),
    ] {
        let id = partner_id(&app, name).await;
        let seen = app
            .gql_as(
                email,
                "query($id: ID!) { partner(id: $id) { tier { name } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(seen["data"]["partner"]["tier"]["name"], tier);
    }

    let create = "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { name } userErrors { field code } } }";
    let forbidden = app
        .gql_as(
            ALICE_NORTHWIND,
            create,
            json!({ "i": { "name": "Diamond", "rank": 5 } }),
        )
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
    let taken = app
        .gql_as(
            MANAGER,
            create,
            json!({ "i": { "name": "Diamond", "rank": 4, "protectionDays": 45 } }),
        )
        .await;
    let payload = &taken["data"]["createTier"];
    assert_eq!(error_fields(payload), ["rank", "protectionDays"]);
    assert_eq!(error_codes(payload), ["TAKEN", "INVALID"]);
    let made = app.gql_as(MANAGER, create, json!({ "i": { "name": "Diamond", "rank": 5, "criteria": { "minWonRevenue": { "amount": "5000000", "currency": "USD" } } } })).await;
    assert_eq!(
        made["data"]["createTier"]["tier"]["name"], "Diamond",
        "{made}"
    );
}

#[tokio::test]
async fn meeting_the_next_tier_s_criteria_flags_eligibility_and_a_manager_approves() {
    let app = TestApp::demo().await;
    let tiertwo = partner_id(&app, "TierTwo").await;
    let silver = id_in(
        &app,
        "{ tiers { edges { node { id name } } } }",
        "tiers",
        "name",
        "Silver",
    )
    .await;

    // Make Silver reachable by certifications alone.
    let version = app
        .gql_as(
            MANAGER,
            "query($id: ID!) { node(id: $id) { ... on Tier { version } } }",
            json!({ "id": silver }),
        )
        .await["data"]["node"]["version"]
        .clone();
    let update = "mutation($i: UpdateTierInput!) { updateTier(input: $i) { tier { criteria { minActiveCertifications } } userErrors { field code } } }";
    let changed = app
        .gql_as(MANAGER, update, json!({ "i": { "id": silver, "version": version, "criteria": { "minWonRevenue": { "amount": "0", "currency": "USD" }, "minApprovedRegistrations": 0, "minWonDeals": 0, "minActiveCertifications": 1 } } }))
        .await;
    assert_eq!(
        changed["data"]["updateTier"]["userErrors"],
        json!([]),
        "{changed}"
    );

    let before = app
        .gql_as(BOB_TIERTWO, PROGRESS, json!({ "id": tiertwo }))
        .await["data"]["partner"]["tierProgress"]
        .clone();
    assert_eq!(before["currentTier"]["name"], "Registered");
    assert_eq!(before["nextTier"]["name"], "Silver");
    assert_eq!(before["eligibleForPromotion"], false);
    let certs = before["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "ACTIVE_CERTIFICATIONS")
        .unwrap()
        .clone();
    assert_eq!(
        certs,
        json!({ "criterion": "ACTIVE_CERTIFICATIONS", "required": "1", "actual": "0", "met": false })
    );

    // Bob finishes the second course of the sales certification.
    let bob = user_id(&app, BOB_TIERTWO).await;
    let course = id_in(
        &app,
        "{ courses { edges { node { id title } } } }",
        "courses",
        "title",
        "Selling the Platform",
    )
    .await;
    let record = "mutation($i: RecordCourseCompletionInput!) { recordCourseCompletion(input: $i) { certifications { status } userErrors { field code } } }";
    let recorded = app
        .gql_as(
            BOB_TIERTWO,
            record,
            json!({ "i": { "userId": bob, "courseId": course } }),
        )
        .await;
    assert_eq!(
        recorded["data"]["recordCourseCompletion"]["certifications"][0]["status"], "ACTIVE",
        "{recorded}"
    );

    let after = app
        .gql_as(BOB_TIERTWO, PROGRESS, json!({ "id": tiertwo }))
        .await["data"]["partner"]["tierProgress"]
        .clone();
    assert_eq!(after["eligibleForPromotion"], true, "{after}");
    assert_eq!(after["eligibleTier"]["name"], "Silver");
    assert!(after["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["met"] == true));

    // Eligibility is a flag; the tier changes only when a manager approves.
    let change = "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { partner { tier { name } tierHistory { edges { node { fromTier { name } toTier { name } reason } } } } userErrors { field code } } }";
    let by_partner = app
        .gql_as(
            DAVE_SUMMIT,
            change,
            json!({ "i": { "partnerId": tiertwo, "tierId": silver } }),
        )
        .await;
    assert_eq!(error_code(&by_partner).as_deref(), Some("FORBIDDEN"));
    let approved = app
        .gql_as(
            MANAGER,
            change,
            json!({ "i": { "partnerId": tiertwo, "tierId": silver, "reason": "certified" } }),
        )
        .await;
    let partner = &approved["data"]["changePartnerTier"]["partner"];
    assert_eq!(partner["tier"]["name"], "Silver", "{approved}");
    let history = partner["tierHistory"]["edges"].as_array().unwrap();
    let last = &history.last().unwrap()["node"];
    assert_eq!(
        last,
        &json!({ "fromTier": { "name": "Registered" }, "toTier": { "name": "Silver" }, "reason": "certified" })
    );
    let again = app
        .gql_as(
            MANAGER,
            change,
            json!({ "i": { "partnerId": tiertwo, "tierId": silver } }),
        )
        .await;
    assert_eq!(
        error_codes(&again["data"]["changePartnerTier"]),
        ["RULE_VIOLATION"]
    );
}

#[tokio::test]
async fn partners_never_see_another_organisation_s_progress_users_or_contacts() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let query = "query($id: ID!) { partner(id: $id) { tierProgress { eligibleForPromotion } users { totalCount } contacts { totalCount } } }";
    let by_bob = app
        .gql_as(BOB_TIERTWO, query, json!({ "id": northwind }))
        .await;
    assert!(by_bob["data"]["partner"].is_null());
    let users = app
        .gql_as(
            BOB_TIERTWO,
            "{ users(first: 50) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    let emails: Vec<_> = users["data"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [BOB_TIERTWO]);
    let by_dave = app
        .gql_as(
            DAVE_SUMMIT,
            "{ users(first: 50) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    let mut emails: Vec<_> = by_dave["data"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [BOB_TIERTWO, DAVE_SUMMIT],
        "a distributor sees its tier-two partner's users"
    );
    let own = app
        .gql_as(ALICE_NORTHWIND, query, json!({ "id": northwind }))
        .await;
    assert_eq!(own["data"]["partner"]["users"]["totalCount"], 1, "{own}");
}

#[tokio::test]
async fn onboarding_checklists_track_completion() {
    let app = TestApp::demo().await;
    let fabrikam = partner_id(&app, "Fabrikam Integrators").await;
    let query = "query($id: ID!) { partner(id: $id) { onboarding { completedCount totalCount percentComplete daysInOnboarding startedAt items { id title completed } } } }";
    let onboarding = app.gql_as(MANAGER, query, json!({ "id": fabrikam })).await["data"]["partner"]
        ["onboarding"]
        .clone();
    assert_eq!(
        (
            onboarding["completedCount"].as_i64(),
            onboarding["totalCount"].as_i64()
        ),
        (Some(2), Some(5))
    );
    assert_eq!(onboarding["percentComplete"], 40);
    assert_eq!(onboarding["daysInOnboarding"], 0);
    assert!(onboarding["startedAt"].is_string());
    let third = onboarding["items"][2]["id"].as_str().unwrap().to_owned();

    let tick = "mutation($i: SetOnboardingItemCompletedInput!) { setOnboardingItemCompleted(input: $i) { item { completed completedAt } userErrors { code } } }";
    let by_outsider = app
        .gql_as(ALICE_NORTHWIND, tick, json!({ "i": { "id": third } }))
        .await;
    assert_eq!(
        error_codes(&by_outsider["data"]["setOnboardingItemCompleted"]),
        ["NOT_FOUND"]
    );
    let ticked = app
        .gql_as(MANAGER, tick, json!({ "i": { "id": third } }))
        .await;
    assert_eq!(
        ticked["data"]["setOnboardingItemCompleted"]["item"]["completed"],
        true
    );

    let add = "mutation($i: AddOnboardingItemInput!) { addOnboardingItem(input: $i) { item { title position } userErrors { field code } } }";
    let added = app
        .gql_as(
            MANAGER,
            add,
            json!({ "i": { "partnerId": fabrikam, "title": "Security review" } }),
        )
        .await;
    assert_eq!(added["data"]["addOnboardingItem"]["item"]["position"], 6);
    let after = app.gql_as(MANAGER, query, json!({ "id": fabrikam })).await["data"]["partner"]
        ["onboarding"]
        .clone();
    assert_eq!(
        (
            after["completedCount"].as_i64(),
            after["totalCount"].as_i64()
        ),
        (Some(3), Some(6))
    );
    assert_eq!(after["percentComplete"], 50);
}
