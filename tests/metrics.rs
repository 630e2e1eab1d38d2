//! Channel metrics: figures recomputed by hand on a fixture built through the API, and
//! checked against the registrations the API lists.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::common::*;

const FIGURES: &str = "sourcedRevenue { amount currency } influencedRevenue { amount currency }
    directRevenue { amount currency } totalRevenue { amount currency }
    registrationsSubmitted registrationsApproved registrationsRejected registrationsWon
    registrationsLost approvalRate winRate medianDaysToDecision medianDaysToClose
    averageWonDealSize { amount currency } activePartners producingPartners activationRate
    timeToFirstDeal { partnersJoined partnersWithDeal medianDays p75Days
                      cohorts { cohort partnersJoined partnersWithDeal medianDays p75Days } }
    previouslyProducingPartners retainedPartners retentionRate
    contentViews contentDownloads courseCompletions activeCertifications";

pub async fn metrics(app: &TestApp, token: &str, input: Value) -> Value {
    let query = format!(
        "query($i: ChannelMetricsInput!) {{ channelMetrics(input: $i) {{ {FIGURES}
           groups(first: 100) {{ totalCount edges {{ node {{ key label from to {FIGURES} }} }} }} }} }}"
    );
    let response = app.gql(Some(token), &query, json!({ "i": input })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["channelMetrics"].clone()
}

/// A signed partner with one user; its id and that user's token.
async fn new_partner(app: &TestApp, manager: &str, name: &str, started: &str) -> (String, String) {
    let created = app
        .gql(
            Some(manager),
            "mutation($i: CreatePartnerInput!){ createPartner(input: $i){ partner { id } userErrors { message } } }",
            json!({ "i": { "name": name, "type": "RESELLER", "status": "ACTIVE", "region": "APAC",
                           "partnershipStartedOn": started } }),
        )
        .await;
    let id = created["data"]["createPartner"]["partner"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let email = format!("{}@metrics.example", name.to_lowercase().replace(' ', "-"));
    let user = app
        .gql(
            Some(manager),
            "mutation($i: CreateUserInput!){ createUser(input: $i){ userErrors { message } } }",
            json!({ "i": { "email": email, "name": name, "role": "PARTNER", "partnerId": id,
                           "password": "a-good-long-password" } }),
        )
        .await;
    assert_eq!(
        user["data"]["createUser"]["userErrors"],
        json!([]),
        "{user}"
    );
    let token = login_on(&app.router, &email, "a-good-long-password").await;
    (id, token)
}

/// A submitted registration of `customer`, approved by the manager.
pub async fn approved(
    app: &TestApp,
    partner: &str,
    manager: &str,
    customer: &str,
    currency: &str,
) -> String {
    let product = product_id(app, "PartnerGraph Cloud").await;
    let registered = app
        .gql(
            Some(partner),
            "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { message } } }",
            json!({ "i": { "customerName": customer, "productIds": [product], "submit": true,
                           "expectedCloseDate": "2027-06-30",
                           "estimatedValue": { "amount": "1000", "currency": currency } } }),
        )
        .await;
    let id = registered["data"]["registerDeal"]["dealRegistration"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let approval = app
        .gql(
            Some(manager),
            "mutation($i: ApproveDealInput!){ approveDealRegistration(input: $i){ userErrors { message } } }",
            json!({ "i": { "id": id } }),
        )
        .await;
    assert_eq!(
        approval["data"]["approveDealRegistration"]["userErrors"],
        json!([]),
        "{approval}"
    );
    id
}

/// Marks an approved registration won for `amount` at `closed_at`.
pub async fn won(app: &TestApp, partner: &str, id: &str, amount: &str, currency: &str, at: &str) {
    let won = app
        .gql(
            Some(partner),
            "mutation($i: MarkDealWonInput!){ markDealWon(input: $i){ userErrors { message } } }",
            json!({ "i": { "id": id, "closedAmount": { "amount": amount, "currency": currency },
                           "closedAt": at } }),
        )
        .await;
    assert_eq!(won["data"]["markDealWon"]["userErrors"], json!([]), "{won}");
}

fn money(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|m| {
            (
                m["currency"].as_str().unwrap().to_owned(),
                m["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn figures_match_a_hand_built_program() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let (p1, t1) = new_partner(&app, &manager, "Metrics One", "2025-01-15").await;
    let (p2, t2) = new_partner(&app, &manager, "Metrics Two", "2025-02-10").await;
    let (p3, _) = new_partner(&app, &manager, "Metrics Three", "2025-03-01").await;
    let a = approved(&app, &t1, &manager, "Quokka Logistics", "USD").await;
    won(&app, &t1, &a, "1000.00", "USD", "2025-03-10T12:00:00Z").await;
    let b = approved(&app, &t1, &manager, "Wombat Analytics", "USD").await;
    won(&app, &t1, &b, "500.25", "USD", "2025-04-05T09:00:00Z").await;
    let c = approved(&app, &t2, &manager, "Numbat Freight", "EUR").await;
    won(&app, &t2, &c, "2000.00", "EUR", "2025-04-20T09:00:00Z").await;
    let d = approved(&app, &t2, &manager, "Bilby Foods", "EUR").await;
    let lost = app
        .gql(
            Some(&t2),
            "mutation($i: DealActionInput!){ markDealLost(input: $i){ userErrors { message } } }",
            json!({ "i": { "id": d } }),
        )
        .await;
    assert_eq!(lost["data"]["markDealLost"]["userErrors"], json!([]));
    let ours = json!({ "partnerIds": [p1, p2, p3] });

    // Q2 2025: P1 and P2 each won once; P1 also produced in Q1, P2 did not.
    let q2 = metrics(
        &app,
        &manager,
        json!({ "from": "2025-04-01T00:00:00Z", "to": "2025-07-01T00:00:00Z", "filter": ours }),
    )
    .await;
    assert_eq!(
        money(&q2["sourcedRevenue"]),
        vec![
            ("EUR".into(), "2000.00".into()),
            ("USD".into(), "500.25".into())
        ]
    );
    assert_eq!(q2["registrationsWon"], 2);
    assert_eq!(q2["activePartners"], 3);
    assert_eq!(q2["producingPartners"], 2);
    assert_eq!(q2["activationRate"], 0.6667);
    assert_eq!(q2["previouslyProducingPartners"], 1);
    assert_eq!(q2["retainedPartners"], 1);
    assert_eq!(q2["retentionRate"], 1.0);
    // A filter names partners: direct revenue is not theirs to show.
    assert!(q2["directRevenue"].is_null());
    assert_eq!(q2["totalRevenue"], q2["sourcedRevenue"]);
    // Submitted and decided today, not in 2025.
    assert_eq!(q2["registrationsSubmitted"], 0);
    assert!(q2["approvalRate"].is_null());

    // Q1 2025's joiners: 54 days (P1) and 69 days (P2) to a first deal, P3 none yet.
    let q1 = metrics(
        &app,
        &manager,
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2025-04-01T00:00:00Z", "filter": ours }),
    )
    .await;
    let ttfd = &q1["timeToFirstDeal"];
    assert_eq!(ttfd["partnersJoined"], 3);
    assert_eq!(ttfd["partnersWithDeal"], 2);
    assert_eq!(ttfd["medianDays"], 61.5);
    assert_eq!(ttfd["p75Days"], 69.0);
    assert_eq!(ttfd["cohorts"][0]["cohort"], "2025-Q1");
    // All three signed before April; only P1 won in the quarter.
    assert_eq!(q1["activePartners"], 3);
    assert_eq!(q1["producingPartners"], 1);
    assert_eq!(
        money(&q1["averageWonDealSize"]),
        vec![("USD".into(), "1000.00".into())]
    );

    // The year by month: each month's revenue, and the months add up to the year's.
    let year = metrics(
        &app,
        &manager,
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "filter": ours,
                "groupBy": "MONTH" }),
    )
    .await;
    let months = year["groups"]["edges"].as_array().unwrap();
    assert_eq!(year["groups"]["totalCount"], 12);
    assert_eq!(months[2]["node"]["key"], "2025-03");
    assert_eq!(
        money(&months[2]["node"]["sourcedRevenue"]),
        vec![("USD".into(), "1000.00".into())]
    );
    assert_eq!(months[3]["node"]["registrationsWon"], 2);
    // April's producers (P1, P2) against March's (P1).
    assert_eq!(months[3]["node"]["previouslyProducingPartners"], 1);
    assert_eq!(months[3]["node"]["retainedPartners"], 1);
    assert_eq!(year["registrationsWon"], 3);
    assert_eq!(
        money(&year["sourcedRevenue"]),
        vec![
            ("EUR".into(), "2000.00".into()),
            ("USD".into(), "1500.25".into())
        ]
    );

    // Now: four submissions, four approvals, one loss; the close days of a deal closed
    // before it was submitted count as 0.
    let now = metrics(
        &app,
        &manager,
        json!({ "from": "2026-01-01T00:00:00Z", "to": "2027-06-01T00:00:00Z", "filter": ours }),
    )
    .await;
    assert_eq!(now["registrationsSubmitted"], 4);
    assert_eq!(now["registrationsApproved"], 4);
    assert_eq!(now["approvalRate"], 1.0);
    assert_eq!(now["registrationsLost"], 1);
    assert_eq!(now["winRate"], 0.0);
    assert_eq!(now["medianDaysToDecision"], 0.0);
    assert_eq!(now["medianDaysToClose"], 0.0);
}

#[tokio::test]
async fn channel_metrics_refuse_bad_periods_and_direct_reps() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let query = "query($i: ChannelMetricsInput!) { channelMetrics(input: $i) { activePartners } }";
    for input in [
        json!({ "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" }),
        json!({ "from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" }),
        json!({ "from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "groupBy": "MONTH" }),
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z",
                "filter": { "regions": ["r".repeat(101)] } }),
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z",
                "filter": { "partnerIds": ["not-an-id"] } }),
    ] {
        let refused = app.gql(Some(&manager), query, json!({ "i": input })).await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("BAD_USER_INPUT"),
            "{refused}"
        );
    }
    let period = json!({ "i": { "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" } });
    let rep = app.login(REP).await;
    let refused = app.gql(Some(&rep), query, period.clone()).await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let anonymous = app.gql(None, query, period).await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
}

/// Σ closed amounts per currency of the won registrations closed in [from, to), read back
/// through `dealRegistrations` as the manager sees them (every page).
async fn won_through_registrations(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    partner: Option<&str>,
) -> (
    std::collections::BTreeMap<String, rust_decimal::Decimal>,
    std::collections::BTreeSet<String>,
) {
    use std::str::FromStr;
    let mut sums = std::collections::BTreeMap::new();
    let mut partners = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .gql(
                Some(token),
                "query($f: DealRegistrationFilter, $after: String){ dealRegistrations(first: 100, after: $after, filter: $f) {
                   pageInfo { hasNextPage endCursor }
                   edges { node { closedAmount { amount currency } partner { id } } } } }",
                json!({ "f": { "statuses": ["WON"], "closedFrom": from, "closedBefore": to,
                               "partnerId": partner }, "after": after }),
            )
            .await;
        let list = &page["data"]["dealRegistrations"];
        for edge in list["edges"].as_array().unwrap_or_else(|| panic!("{page}")) {
            let m = &edge["node"]["closedAmount"];
            *sums
                .entry(m["currency"].as_str().unwrap().to_owned())
                .or_insert(rust_decimal::Decimal::ZERO) +=
                rust_decimal::Decimal::from_str(m["amount"].as_str().unwrap()).unwrap();
            partners.insert(edge["node"]["partner"]["id"].as_str().unwrap().to_owned());
        }
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    (sums, partners)
}

fn as_sums(list: &Value) -> std::collections::BTreeMap<String, rust_decimal::Decimal> {
    use std::str::FromStr;
    money(list)
        .into_iter()
        .map(|(c, a)| (c, rust_decimal::Decimal::from_str(&a).unwrap()))
        .collect()
}

#[tokio::test]
async fn sourced_revenue_and_activation_recompute_from_the_registrations() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let (from, to) = ("2025-06-01T00:00:00Z", "2030-01-01T00:00:00Z");
    let period = json!({ "from": from, "to": to });
    let figures = metrics(&app, &manager, period.clone()).await;
    let (sums, producing) = won_through_registrations(&app, &manager, from, to, None).await;
    assert!(!sums.is_empty(), "the demo has won deals in the period");
    assert_eq!(as_sums(&figures["sourcedRevenue"]), sums);
    assert_eq!(figures["producingPartners"], producing.len());
    // Active: every partner signed before the period's end (the demo has no prospects or
    // terminated partners).
    let partners = app
        .gql(
            Some(&manager),
            "{ partners(first: 100) { edges { node { partnershipStartedOn status } } } }",
            json!({}),
        )
        .await;
    let active = partners["data"]["partners"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["node"]["status"] != "PROSPECT" && !e["node"]["partnershipStartedOn"].is_null()
        })
        .count();
    assert_eq!(figures["activePartners"], active);
    let rate = (producing.len() as f64 / active as f64 * 10_000.0).round() / 10_000.0;
    assert_eq!(figures["activationRate"], rate);
    // The direct and influenced revenue of the demo's opportunities.
    assert_eq!(
        money(&figures["directRevenue"]),
        vec![("USD".into(), "18000.00".into())]
    );
    assert_eq!(
        money(&figures["influencedRevenue"]),
        vec![("USD".into(), "185000.00".into())]
    );

    // A new win grows sourced revenue by exactly its amount.
    let alice = app.login(ALICE_NORTHWIND).await;
    let id = approved(&app, &alice, &manager, "Echidna Robotics", "USD").await;
    won(
        &app,
        &alice,
        &id,
        "1234.56",
        "USD",
        &chrono::Utc::now().to_rfc3339(),
    )
    .await;
    let after = metrics(&app, &manager, period).await;
    let mut grown = as_sums(&figures["sourcedRevenue"]);
    *grown.get_mut("USD").unwrap() += rust_decimal::Decimal::new(123_456, 2);
    assert_eq!(as_sums(&after["sourcedRevenue"]), grown);
}

#[tokio::test]
async fn a_partner_sees_only_its_own_organisation() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let period = json!({ "from": "2025-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z" });
    let northwind = partner_id(&app, "Northwind").await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let own = metrics(&app, &alice, period.clone()).await;
    let mut filtered = period.clone();
    filtered["filter"] = json!({ "partnerIds": [northwind] });
    let seen_by_manager = metrics(&app, &manager, filtered).await;
    assert_eq!(own, seen_by_manager);
    assert_eq!(own["activePartners"], 1);
    assert!(own["directRevenue"].is_null());
    // Asking for another partner by filter shows nothing of it.
    let summit = partner_id(&app, "Summit Distribution").await;
    let mut probing = period.clone();
    probing["filter"] = json!({ "partnerIds": [summit] });
    let probed = metrics(&app, &alice, probing).await;
    assert_eq!(probed["activePartners"], 0);
    assert_eq!(probed["sourcedRevenue"], json!([]));
    // A distributor sees itself and its tier two.
    let dave = app.login(DAVE_SUMMIT).await;
    let tree = metrics(&app, &dave, period.clone()).await;
    let mut ids = vec![summit];
    for name in ["TierTwo", "Alpine Referrals"] {
        ids.push(partner_id(&app, name).await);
    }
    let mut theirs = period;
    theirs["filter"] = json!({ "partnerIds": ids });
    assert_eq!(tree, metrics(&app, &manager, theirs).await);
}

#[tokio::test]
async fn groups_by_tier_and_partner_add_up_to_the_whole() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let period = json!({ "from": "2025-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z" });
    let whole = metrics(&app, &manager, period.clone()).await;
    for by in ["TIER", "TYPE", "REGION", "PARTNER"] {
        let mut input = period.clone();
        input["groupBy"] = json!(by);
        let grouped = metrics(&app, &manager, input).await;
        let edges = grouped["groups"]["edges"].as_array().unwrap();
        let won: i64 = edges
            .iter()
            .map(|e| e["node"]["registrationsWon"].as_i64().unwrap())
            .sum();
        let active: i64 = edges
            .iter()
            .map(|e| e["node"]["activePartners"].as_i64().unwrap())
            .sum();
        assert_eq!(won, whole["registrationsWon"].as_i64().unwrap(), "{by}");
        assert_eq!(active, whole["activePartners"].as_i64().unwrap(), "{by}");
        assert!(
            edges.iter().all(|e| e["node"]["directRevenue"].is_null()),
            "{by}"
        );
    }
}

/// The figures without the direct and total revenue (shown only for the unfiltered program).
fn partners_figures(figures: &Value) -> Value {
    let mut f = figures.clone();
    for key in ["directRevenue", "totalRevenue"] {
        f.as_object_mut().unwrap().remove(key);
    }
    if let Some(edges) = f["groups"]["edges"].as_array_mut() {
        for edge in edges {
            let node = edge["node"].as_object_mut().unwrap();
            node.remove("directRevenue");
            node.remove("totalRevenue");
        }
    }
    f
}

#[tokio::test]
async fn kept_past_months_agree_with_the_activity_and_follow_late_wins() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(200)).to_rfc3339();
    let period = json!({ "from": from, "to": now.to_rfc3339(), "groupBy": "MONTH" });
    // The whole program's past months are computed, kept, then read back.
    let first = metrics(&app, &manager, period.clone()).await;
    let kept = entity::metric_month_fact::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert!(kept > 0, "the past months were kept");
    let again = metrics(&app, &manager, period.clone()).await;
    assert_eq!(again, first);
    // A filter that admits every partner reads the activity tables: the same figures.
    let mut every_type = period.clone();
    every_type["filter"] = json!({ "types": ["RESELLER", "VAR", "DISTRIBUTOR", "REFERRAL",
                                             "SYSTEM_INTEGRATOR", "MSP", "OEM"] });
    let read = metrics(&app, &manager, every_type).await;
    assert_eq!(partners_figures(&read), partners_figures(&first));

    // A win closed in the middle of a kept month: that month, and the total, grow by it.
    let month_ago = now - chrono::Duration::days(75);
    let label = month_ago.format("%Y-%m").to_string();
    let alice = app.login(ALICE_NORTHWIND).await;
    let id = approved(&app, &alice, &manager, "Wombat Logistics", "USD").await;
    won(&app, &alice, &id, "777.00", "USD", &month_ago.to_rfc3339()).await;
    let after = metrics(&app, &manager, period).await;
    let month = |figures: &Value| {
        figures["groups"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["key"] == label.as_str())
            .map(|e| as_sums(&e["node"]["sourcedRevenue"]))
            .unwrap_or_else(|| panic!("no {label}: {figures}"))
    };
    let mut grown = month(&first);
    *grown.entry("USD".into()).or_default() += rust_decimal::Decimal::new(777, 0);
    assert_eq!(month(&after), grown);
    let mut total = as_sums(&first["sourcedRevenue"]);
    *total.entry("USD".into()).or_default() += rust_decimal::Decimal::new(777, 0);
    assert_eq!(as_sums(&after["sourcedRevenue"]), total);
}

/// Σ over the partner groups of their influenced revenue in USD, the program's, and the
/// credit the figures were computed with.
async fn influenced_by_partner(
    app: &TestApp,
    manager: &str,
) -> (rust_decimal::Decimal, rust_decimal::Decimal, String) {
    let response = app
        .gql(
            Some(manager),
            "query($i: ChannelMetricsInput!){ channelMetrics(input: $i){ influenceCredit
                 influencedRevenue { amount currency }
                 groups(first: 100) { edges { node { influencedRevenue { amount currency } } } } } }",
            json!({ "i": { "from": "2020-01-01T00:00:00Z", "to": chrono::Utc::now().to_rfc3339(),
                           "groupBy": "PARTNER" } }),
        )
        .await;
    let m = &response["data"]["channelMetrics"];
    let usd = |list: &Value| as_sums(list).get("USD").copied().unwrap_or_default();
    let groups = m["groups"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|e| usd(&e["node"]["influencedRevenue"]))
        .sum();
    (
        groups,
        usd(&m["influencedRevenue"]),
        m["influenceCredit"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn influenced_revenue_is_credited_whole_or_split_as_the_program_says() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    // The demo's won opportunities: 120,000 by one partner, 65,000 by two.
    let (groups, program, credit) = influenced_by_partner(&app, &manager).await;
    assert_eq!(credit, "WHOLE");
    assert_eq!(program, rust_decimal::Decimal::new(185_000, 0));
    assert_eq!(groups, rust_decimal::Decimal::new(250_000, 0));

    let set = "mutation($i: SetInfluenceCreditInput!){ setInfluenceCredit(input: $i){ influenceCredit userErrors { field } } }";
    let alice = app.login(ALICE_NORTHWIND).await;
    let refused = app
        .gql(Some(&alice), set, json!({ "i": { "credit": "SPLIT" } }))
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    let changed = app
        .gql(Some(&manager), set, json!({ "i": { "credit": "SPLIT" } }))
        .await;
    assert_eq!(
        changed["data"]["setInfluenceCredit"]["influenceCredit"],
        "SPLIT"
    );
    // Split: the partners' shares add up to the program's figure.
    let (groups, program, credit) = influenced_by_partner(&app, &manager).await;
    assert_eq!(credit, "SPLIT");
    assert_eq!(program, rust_decimal::Decimal::new(185_000, 0));
    assert_eq!(groups, program);
}

#[tokio::test]
async fn a_key_reads_metrics_only_with_its_scope() {
    let app = TestApp::demo().await;
    let query = json!({ "query": "query($i: ChannelMetricsInput!){ channelMetrics(input: $i){ activePartners } }",
                        "variables": { "i": { "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" } } });
    let reader = app.api_key(MANAGER, "BI export", &["METRICS_READ"]).await;
    let read = app.post(Some(&reader), query.clone()).await.json();
    assert!(read["errors"].is_null(), "{read}");
    assert!(read["data"]["channelMetrics"]["activePartners"]
        .as_i64()
        .is_some());
    let other = app.api_key(MANAGER, "Partners", &["PARTNERS_READ"]).await;
    let refused = app.post(Some(&other), query).await.json();
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
}
