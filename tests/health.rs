//! Partner health: explainable scores on the demo program, the at-risk list, the model
//! managers set, and the daily snapshot job run by two replicas at once.

use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::common::*;

const HEALTHS: &str = "{ partners(first: 100) { edges { node { name status
    health { score band factors { name normalized weight contribution explanation } } } } } }";

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a decimal: {value}")),
    )
    .unwrap()
}

/// (name, score, factors) of every measured partner.
async fn healths(app: &TestApp, token: &str) -> Vec<(String, Decimal, Vec<Value>)> {
    let response = app.gql(Some(token), HEALTHS, json!({})).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["partners"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["node"]["health"].is_null())
        .map(|e| {
            let h = &e["node"]["health"];
            (
                e["node"]["name"].as_str().unwrap().to_owned(),
                dec(&h["score"]),
                h["factors"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn contributions_add_up_and_the_partner_going_dark_is_at_risk() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let all = healths(&app, &manager).await;
    assert!(all.len() >= 4, "{all:?}");
    for (name, score, factors) in &all {
        let sum: Decimal = factors.iter().map(|f| dec(&f["contribution"])).sum();
        assert_eq!(sum, *score, "{name}");
        assert_eq!(factors.len(), 5);
        assert!(factors
            .iter()
            .all(|f| !f["explanation"].as_str().unwrap().is_empty()));
    }
    let score_of = |name: &str| all.iter().find(|h| h.0 == name).map(|h| h.1).unwrap();
    assert!(score_of("Contoso Cloud Services") < score_of("TierTwo"));
    assert!(score_of("Contoso Cloud Services") < score_of("Summit Distribution"));

    let at_risk = app
        .gql(
            Some(&manager),
            "{ atRiskPartners(first: 50) { totalCount edges { node {
                 partner { name } health { score band } factorMovedMost change comparedWith } } } }",
            json!({}),
        )
        .await;
    let list = &at_risk["data"]["atRiskPartners"];
    let names = edge_names_at(list, &["partner", "name"]);
    assert!(
        names.contains(&"Contoso Cloud Services".to_owned()),
        "{at_risk}"
    );
    // Dormant Alpine is at risk too; growing TierTwo is not listed.
    assert!(names.contains(&"Alpine Referrals".to_owned()), "{at_risk}");
    assert!(!names.contains(&"TierTwo".to_owned()), "{at_risk}");
    let band_of = |name: &str| {
        list["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["partner"]["name"] == name)
            .map(|e| e["node"]["health"]["band"].clone())
    };
    assert_eq!(band_of("Contoso Cloud Services"), Some(json!("AT_RISK")));
    assert_eq!(list["totalCount"], names.len());
    let scores: Vec<Decimal> = list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| dec(&e["node"]["health"]["score"]))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {scores:?}"
    );
    // The demo kept weekly snapshots: Contoso is compared with one a month old, and what
    // moved most fell.
    let contoso = list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["partner"]["name"] == "Contoso Cloud Services")
        .unwrap();
    assert!(!contoso["node"]["comparedWith"].is_null(), "{contoso}");
    assert!(
        dec(&contoso["node"]["change"]) <= Decimal::ZERO,
        "{contoso}"
    );
}

fn edge_names_at(connection: &Value, path: &[&str]) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {connection}"))
        .iter()
        .map(|e| {
            let mut v = &e["node"];
            for key in path {
                v = &v[key];
            }
            v.as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_health_model_changes_scores_and_refuses_bad_weights() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let set = "mutation($i: SetHealthModelInput!){ setHealthModel(input: $i){
        healthModel { weights { registrationTrend training } healthyAt watchAt }
        userErrors { field code } } }";
    // Registration trend alone: each score is 100 × that factor's normalised value.
    let only_registrations = json!({ "i": { "weights": { "registrationTrend": 1, "engagementTrend": 0,
        "training": 0, "dealRecency": 0, "portalActivity": 0 } } });
    let changed = app.gql(Some(&manager), set, only_registrations).await;
    assert_eq!(changed["data"]["setHealthModel"]["userErrors"], json!([]));
    for (name, score, factors) in healths(&app, &manager).await {
        let trend = factors
            .iter()
            .find(|f| f["name"] == "registrationTrend")
            .unwrap();
        let expected = Decimal::from_str(&format!(
            "{:.2}",
            trend["normalized"].as_f64().unwrap() * 100.0
        ))
        .unwrap();
        assert!(
            (score - expected).abs() <= Decimal::new(1, 2),
            "{name}: {score} vs {expected}"
        );
        for f in &factors {
            if f["name"] != "registrationTrend" {
                assert_eq!(dec(&f["contribution"]), Decimal::ZERO, "{name}");
            }
        }
    }
    let before = healths(&app, &manager).await;
    for bad in [
        json!({ "weights": { "registrationTrend": 0 } }),
        json!({ "weights": { "training": 101 } }),
        json!({ "healthyAt": 30, "watchAt": 50 }),
        json!({ "weights": { "dealRecency": -1 } }),
    ] {
        let refused = app.gql(Some(&manager), set, json!({ "i": bad })).await;
        let payload = &refused["data"]["setHealthModel"];
        assert!(payload["healthModel"].is_null(), "{refused}");
        assert!(!error_codes(payload).is_empty(), "{refused}");
    }
    assert_eq!(
        healths(&app, &manager).await,
        before,
        "a refused model changes nothing"
    );
    let alice = app.login(ALICE_NORTHWIND).await;
    let refused = app
        .gql(Some(&alice), set, json!({ "i": { "healthyAt": 80 } }))
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    // A partner sees no health, its own included.
    let own = app
        .gql(
            Some(&alice),
            "{ me { partner { name health { score } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&own).as_deref(), Some("FORBIDDEN"), "{own}");
    assert!(own["data"]["me"]["partner"]["health"].is_null());
    assert_eq!(own["data"]["me"]["partner"]["name"], "Northwind");
}

#[tokio::test]
async fn two_replicas_take_one_snapshot_a_day_and_band_changes_are_events() {
    let app = TestApp::demo().await;
    let other = app.replica_state(test_auth_config()).await;
    let now = chrono::Utc::now();
    let (a, b) = tokio::join!(
        partnergraph::health::service::snapshot(&app.state.db, now),
        partnergraph::health::service::snapshot(&other.db, now),
    );
    let taken: Vec<usize> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "exactly one replica takes the day");
    assert!(taken[0] >= 4);
    assert_eq!(
        partnergraph::health::service::snapshot(&app.state.db, now)
            .await
            .unwrap(),
        None
    );
    let manager = app.login(MANAGER).await;
    let contoso = partner_id(&app, "Contoso Cloud Services").await;
    let history = app
        .gql(
            Some(&manager),
            "query($id: ID!){ node(id: $id) { ... on Partner { healthHistory(first: 100) {
                 totalCount edges { node { day score band } } } } } }",
            json!({ "id": contoso }),
        )
        .await;
    let points = &history["data"]["node"]["healthHistory"];
    // 26 weekly points from the demo and today's.
    assert_eq!(points["totalCount"], 27, "{history}");
    let bands: Vec<&str> = points["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["band"].as_str().unwrap())
        .collect();
    assert_eq!(bands.first(), Some(&"HEALTHY"), "{bands:?}");
    assert_eq!(bands.last(), Some(&"AT_RISK"), "{bands:?}");
    let changes = entity::event::Entity::find()
        .filter(entity::event::Column::EventType.eq("partner.health_changed"))
        .count(&app.db)
        .await
        .unwrap();
    assert!(
        changes >= 2,
        "Contoso went HEALTHY → WATCH → AT_RISK: {changes} events"
    );
}

/// Every measured partner's (score, registrationTrend value) in `atRiskPartners`, and the
/// moment the list's health is as of.
async fn ranked_everyone(
    app: &TestApp,
    token: &str,
) -> (Vec<(String, Decimal, f64)>, chrono::DateTime<chrono::Utc>) {
    let response = app
        .gql(
            Some(token),
            "{ atRiskPartners(first: 100, bands: [HEALTHY, WATCH, AT_RISK]) { edges { node {
                 partner { name } health { score computedAt factors { name value } } } } } }",
            json!({}),
        )
        .await;
    let edges = response["data"]["atRiskPartners"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .clone();
    let as_of = edges[0]["node"]["health"]["computedAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let rows = edges
        .iter()
        .map(|e| {
            let h = &e["node"]["health"];
            let trend = h["factors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "registrationTrend")
                .unwrap()["value"]
                .as_f64()
                .unwrap();
            (
                e["node"]["partner"]["name"].as_str().unwrap().to_owned(),
                dec(&h["score"]),
                trend,
            )
        })
        .collect();
    (rows, as_of)
}

/// Northwind's registration trend value in its own `Partner.health`.
async fn own_trend(app: &TestApp, token: &str) -> f64 {
    let northwind = partner_id(app, "Northwind").await;
    let seen = app
        .gql(
            Some(token),
            "query($id: ID!){ node(id: $id) { ... on Partner { health { factors { name value } } } } }",
            json!({ "id": northwind }),
        )
        .await;
    registration_trend(&seen, &seen["data"]["node"]["health"]["factors"])
}

#[tokio::test]
async fn at_risk_partners_rank_kept_signals_that_two_replicas_refresh_once() {
    use partnergraph::health::refresh::run_once;
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let (live, _) = ranked_everyone(&app, &manager).await;

    let other = app.replica_state(test_auth_config()).await;
    let now = chrono::Utc::now();
    let period = std::time::Duration::from_secs(300);
    let (a, b) = tokio::join!(
        run_once(&app.state.db, now, period),
        run_once(&other.db, now, period)
    );
    let taken: Vec<usize> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "exactly one replica refreshes: {taken:?}");
    let (kept, as_of) = ranked_everyone(&app, &manager).await;
    assert_eq!(kept, live, "kept signals rank as the live ones did");
    assert!((as_of - now).num_milliseconds().abs() <= 1, "{as_of} {now}");

    // A new registration shows at the next refresh, in the ranking and in the partner's own
    // health alike (one health per partner at a time).
    let alice = app.login(ALICE_NORTHWIND).await;
    crate::metrics::approved(&app, &alice, &manager, "Quokka Analytics", "USD").await;
    let trend_of = |rows: &[(String, Decimal, f64)]| {
        rows.iter()
            .find(|r| r.0 == "Northwind")
            .map(|r| r.2)
            .unwrap()
    };
    let (still, _) = ranked_everyone(&app, &manager).await;
    assert_eq!(trend_of(&still), trend_of(&kept));
    assert_eq!(own_trend(&app, &manager).await, trend_of(&kept));
    let later = now + chrono::Duration::seconds(301);
    assert!(run_once(&other.db, later, period).await.unwrap().is_some());
    let (refreshed, _) = ranked_everyone(&app, &manager).await;
    assert_eq!(trend_of(&refreshed), trend_of(&kept) + 1.0);
    assert_eq!(own_trend(&app, &manager).await, trend_of(&refreshed));

    // A new model applies to the kept signals at once.
    let changed = app
        .gql(
            Some(&manager),
            "mutation { setHealthModel(input: { weights: { registrationTrend: 0 } }) { userErrors { field } } }",
            json!({}),
        )
        .await;
    assert_eq!(changed["data"]["setHealthModel"]["userErrors"], json!([]));
    let (reweighed, _) = ranked_everyone(&app, &manager).await;
    assert_ne!(
        reweighed.iter().map(|r| r.1).collect::<Vec<_>>(),
        refreshed.iter().map(|r| r.1).collect::<Vec<_>>()
    );
}

/// Northwind's registration trend in its latest snapshot.
async fn snapshot_trend(app: &TestApp, token: &str) -> f64 {
    let northwind = partner_id(app, "Northwind").await;
    let seen = app
        .gql(
            Some(token),
            "query($id: ID!){ node(id: $id) { ... on Partner { healthHistory(last: 1) {
                 edges { node { day factors { name value } } } } } } }",
            json!({ "id": northwind }),
        )
        .await;
    registration_trend(
        &seen,
        &seen["data"]["node"]["healthHistory"]["edges"][0]["node"]["factors"],
    )
}

/// The registration trend's value among `factors`, read from the response `seen`.
fn registration_trend(seen: &Value, factors: &Value) -> f64 {
    factors
        .as_array()
        .unwrap_or_else(|| panic!("{seen}"))
        .iter()
        .find(|f| f["name"] == "registrationTrend")
        .and_then(|f| f["value"].as_f64())
        .unwrap_or_else(|| panic!("no registration trend: {seen}"))
}

#[tokio::test]
async fn the_day_s_snapshot_keeps_the_health_the_program_shows() {
    use partnergraph::health::{refresh::run_once, service::snapshot};
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let now = chrono::Utc::now();
    assert!(
        run_once(&app.state.db, now, std::time::Duration::from_secs(300))
            .await
            .unwrap()
            .is_some()
    );
    let shown = own_trend(&app, &manager).await;
    // A registration after the refresh is in the live signals only: the snapshot taken
    // before the next refresh keeps what `Partner.health` and `atRiskPartners` show.
    let alice = app.login(ALICE_NORTHWIND).await;
    crate::metrics::approved(&app, &alice, &manager, "Quokka Analytics", "USD").await;
    assert!(snapshot(&app.state.db, now + chrono::Duration::seconds(1))
        .await
        .unwrap()
        .is_some());
    assert_eq!(snapshot_trend(&app, &manager).await, shown);
    // Past the kept signals' freshness, the snapshot reads the live ones.
    let later = now + partnergraph::health::refresh::FRESH_FOR + chrono::Duration::days(1);
    assert!(snapshot(&app.state.db, later).await.unwrap().is_some());
    assert_eq!(snapshot_trend(&app, &manager).await, shown + 1.0);
}
