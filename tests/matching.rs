//! Conflict matching through the API: the project's labelled corpus scored through
//! `checkConflicts` and `registerDeal`, what a partner may learn, and the inputs both take.

use serde_json::{json, Value};

use crate::common::*;

const REGISTER: &str = "mutation($i: RegisterDealInput!) { registerDeal(input: $i) {
    dealRegistration { id conflicts { kind } } userErrors { field code message } } }";
const CHECK: &str = "mutation($i: [CheckConflictsInput!]!) { checkConflicts(input: $i) {
    customerName hasConflict userErrors { field code }
    conflicts { kind decision score matchedOn rule registration { id } products { name } evidence { signal contribution } }
    possibleConflicts { decision score registration { id } } } }";

/// One labelled pair of `tests/data/customer_pairs.tsv` or `customer_pairs_handwritten.tsv`.
struct Pair {
    same: bool,
    kind: String,
    a: [String; 3],
    b: [String; 3],
}

fn corpus() -> Vec<Pair> {
    include_str!("data/customer_pairs.tsv")
        .lines()
        .skip(1)
        .chain(
            include_str!("data/customer_pairs_handwritten.tsv")
                .lines()
                .skip(1),
        )
        .map(|line| {
            let f: Vec<String> = line.split('\t').map(str::to_owned).collect();
            Pair {
                same: f[0] == "1",
                kind: f[1].clone(),
                a: [f[2].clone(), f[3].clone(), f[4].clone()],
                b: [f[5].clone(), f[6].clone(), f[7].clone()],
            }
        })
        .collect()
}

fn optional(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    }
}

fn registration(customer: &[String; 3], product: &str) -> Value {
    json!({ "i": {
        "customerName": customer[0], "customerDomain": optional(&customer[1]),
        "customerCountry": optional(&customer[2]), "productIds": [product],
        "estimatedValue": { "amount": "10000", "currency": "USD" },
        "expectedCloseDate": "2099-01-31", "submit": true
    } })
}

fn check_input(customer: &[String; 3], product: &str) -> Value {
    json!({ "customerName": customer[0], "customerDomain": optional(&customer[1]),
        "customerCountry": optional(&customer[2]), "productIds": [product] })
}

/// Precision and recall of `flagged` against the labels, and the pairs it got wrong.
fn score(pairs: &[Pair], flagged: &[bool]) -> (f64, f64, Vec<String>) {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    let mut wrong = Vec::new();
    for (pair, &flag) in pairs.iter().zip(flagged) {
        match (flag, pair.same) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            _ => {}
        }
        if flag != pair.same {
            wrong.push(format!("{} {:?} / {:?}", pair.kind, pair.a, pair.b));
        }
    }
    (tp / (tp + fp), tp / (tp + fn_), wrong)
}

/// Northwind registers every pair's first record; the second is checked as a dry run (by a
/// manager, who sees which registration it matched) and then registered by TierTwo. A pair
/// is flagged when the second's `MATCH` conflicts name the first. Both paths must agree and
/// reach precision 0.97 and recall 0.95.
#[tokio::test]
async fn the_labelled_corpus_scores_through_check_conflicts_and_register_deal() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let (northwind, tiertwo, manager) = (
        app.login(ALICE_NORTHWIND).await,
        app.login(BOB_TIERTWO).await,
        app.login(MANAGER).await,
    );
    let pairs = corpus();
    assert!(pairs.len() >= 400);
    let mut firsts = Vec::new();
    for pair in &pairs {
        let created = app
            .gql(Some(&northwind), REGISTER, registration(&pair.a, &cloud))
            .await;
        let id = created["data"]["registerDeal"]["dealRegistration"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{:?}: {created}", pair.a))
            .to_owned();
        firsts.push(id);
    }
    let matched = |conflicts: &Value, id: &str| {
        conflicts.as_array().is_some_and(|list| {
            list.iter()
                .any(|c| c["decision"] == "MATCH" && c["registration"]["id"] == id)
        })
    };

    let mut checked = Vec::new();
    for chunk in pairs.chunks(50) {
        let inputs: Vec<Value> = chunk.iter().map(|p| check_input(&p.b, &cloud)).collect();
        let answer = app.gql(Some(&manager), CHECK, json!({ "i": inputs })).await;
        let checks = answer["data"]["checkConflicts"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"));
        for check in checks {
            assert_eq!(check["userErrors"], json!([]), "{check}");
            let id = &firsts[checked.len()];
            checked.push(matched(&check["conflicts"], id));
        }
    }
    let (precision, recall, wrong) = score(&pairs, &checked);
    eprintln!("checkConflicts: precision {precision:.3} recall {recall:.3}");
    assert!(
        precision >= 0.97 && recall >= 0.95,
        "checkConflicts: precision {precision:.3} recall {recall:.3}\n{}",
        wrong.join("\n")
    );

    let read = "query($id: ID!) { node(id: $id) { ... on DealRegistration { conflicts { decision registration { id } } } } }";
    let mut registered = Vec::new();
    for (pair, first) in pairs.iter().zip(&firsts) {
        let created = app
            .gql(Some(&tiertwo), REGISTER, registration(&pair.b, &cloud))
            .await;
        let id = created["data"]["registerDeal"]["dealRegistration"]["id"].clone();
        let seen = app.gql(Some(&manager), read, json!({ "id": id })).await;
        registered.push(matched(&seen["data"]["node"]["conflicts"], first));
    }
    assert_eq!(
        registered, checked,
        "registerDeal and checkConflicts agree on every pair"
    );
}

/// Two partners hold the customer; a third asks. It learns that a conflict of one kind
/// exists, nothing about how many, how sure or which products; a manager sees all of it.
#[tokio::test]
async fn a_partner_learns_whether_a_conflict_exists_and_its_kind_and_nothing_more() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let analytics = product_id(&app, "PartnerGraph Analytics").await;
    for (who, name) in [
        (ALICE_NORTHWIND, "Globex Corporation"),
        (DAVE_SUMMIT, "Globex Corp"),
    ] {
        let mut input = registration(&[name.into(), "globex.com".into(), "US".into()], &cloud);
        input["i"]["productIds"] = json!([cloud, analytics]);
        let created = app.gql_as(who, REGISTER, input).await;
        assert_eq!(
            created["data"]["registerDeal"]["userErrors"],
            json!([]),
            "{created}"
        );
    }
    let asked = json!({ "i": [
        { "customerName": "GLOBEX corp.", "customerCountry": "US", "productIds": [cloud] },
        { "customerName": "Globex", "customerDomain": "https://www.globex.com/", "productIds": [analytics] },
        { "customerName": "Quibbleworth Analytics", "productIds": [cloud] }
    ] });
    let partner = app.gql_as(BOB_TIERTWO, CHECK, asked.clone()).await;
    let checks = partner["data"]["checkConflicts"].as_array().unwrap();
    for check in &checks[..2] {
        assert_eq!(check["hasConflict"], true, "{partner}");
        let conflicts = check["conflicts"].as_array().unwrap();
        assert_eq!(
            conflicts.len(),
            1,
            "one per kind, not one per registration: {partner}"
        );
        let conflict = &conflicts[0];
        assert_eq!(conflict["kind"], "PARTNER_REGISTRATION");
        assert!(conflict["score"].is_null() && conflict["registration"].is_null());
        assert_eq!(conflict["products"], json!([]));
        assert_eq!(conflict["evidence"], json!([]));
        assert_eq!(check["possibleConflicts"], json!([]));
    }
    assert_eq!(checks[2]["hasConflict"], false);
    assert_eq!(checks[2]["conflicts"], json!([]));

    let manager = app.gql_as(MANAGER, CHECK, asked).await;
    let first = &manager["data"]["checkConflicts"][0];
    let conflicts = first["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 2, "both holders: {manager}");
    for conflict in conflicts {
        assert!(conflict["score"].as_f64().unwrap() >= 0.85);
        assert!(conflict["registration"]["id"].is_string());
        assert_eq!(
            conflict["products"],
            json!([{ "name": "PartnerGraph Cloud" }])
        );
        assert!(!conflict["evidence"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn both_paths_take_a_country_refuse_a_bad_domain_and_accept_a_unicode_one() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let bad = app
        .gql_as(
            BOB_TIERTWO,
            CHECK,
            json!({ "i": [
                { "customerName": "Globex", "customerDomain": "not a domain", "productIds": [cloud] },
                { "customerName": "Globex", "customerCountry": "Atlantis", "productIds": [cloud] }
            ] }),
        )
        .await;
    let checks = &bad["data"]["checkConflicts"];
    assert_eq!(error_fields(&checks[0]), ["customerDomain"], "{bad}");
    assert_eq!(error_fields(&checks[1]), ["customerCountry"], "{bad}");
    let refused = app
        .gql_as(
            BOB_TIERTWO,
            REGISTER,
            registration(&["Globex".into(), "-globex.com".into(), "".into()], &cloud),
        )
        .await;
    assert_eq!(
        error_fields(&refused["data"]["registerDeal"]),
        ["customerDomain"]
    );

    // A Unicode domain is accepted, stored once (in punycode), shown as written, and found
    // by its punycode form; the same name in another country is another company.
    let created = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation($i: RegisterDealInput!) { registerDeal(input: $i) {
                dealRegistration { customer { domain } } userErrors { field } } }",
            registration(
                &[
                    "München Bau GmbH".into(),
                    "münchen-bau.de".into(),
                    "DE".into(),
                ],
                &cloud,
            ),
        )
        .await;
    assert_eq!(
        created["data"]["registerDeal"]["dealRegistration"]["customer"]["domain"], "münchen-bau.de",
        "{created}"
    );
    let asked = app
        .gql_as(
            BOB_TIERTWO,
            CHECK,
            json!({ "i": [
                { "customerName": "Muenchen Bau", "customerDomain": "xn--mnchen-bau-9db.de", "productIds": [cloud] },
                { "customerName": "München Bau", "customerCountry": "AT", "productIds": [cloud] },
                { "customerName": "München Bau", "customerCountry": "DE", "productIds": [cloud] }
            ] }),
        )
        .await;
    let has = |i: usize| asked["data"]["checkConflicts"][i]["hasConflict"].clone();
    assert_eq!(has(0), true, "{asked}");
    assert_eq!(has(1), false, "{asked}");
    assert_eq!(has(2), true, "{asked}");
}

#[tokio::test]
async fn managers_set_the_bands_that_decide_match_and_possible() {
    let app = TestApp::demo().await;
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let created = app
        .gql_as(
            ALICE_NORTHWIND,
            REGISTER,
            registration(&["Zorblax Plumbing".into(), "".into(), "".into()], &cloud),
        )
        .await;
    assert_eq!(created["data"]["registerDeal"]["userErrors"], json!([]));
    let asked = json!({ "i": [{ "customerName": "Zorblax", "productIds": [cloud] }] });
    let before = app.gql_as(MANAGER, CHECK, asked.clone()).await;
    let check = &before["data"]["checkConflicts"][0];
    assert_eq!(check["hasConflict"], false, "{before}");
    let possible = check["possibleConflicts"].as_array().unwrap();
    assert_eq!(
        possible.len(),
        1,
        "a name found inside another is possible: {before}"
    );
    assert_eq!(possible[0]["decision"], "POSSIBLE");
    let score = possible[0]["score"].as_f64().unwrap();

    let set = "mutation($i: SetConflictBandsInput!) { setConflictBands(input: $i) {
        conflictBands { matchAt possibleAt } userErrors { field code } } }";
    let by_partner = app
        .gql_as(
            ALICE_NORTHWIND,
            set,
            json!({ "i": { "matchAt": 0.5, "possibleAt": 0.4 } }),
        )
        .await;
    assert_eq!(error_code(&by_partner).as_deref(), Some("FORBIDDEN"));
    let wrong = app
        .gql_as(
            MANAGER,
            set,
            json!({ "i": { "matchAt": 0.5, "possibleAt": 0.9 } }),
        )
        .await;
    assert_eq!(
        error_fields(&wrong["data"]["setConflictBands"]),
        ["possibleAt"]
    );
    let lowered = app
        .gql_as(
            MANAGER,
            set,
            json!({ "i": { "matchAt": score, "possibleAt": 0.5 } }),
        )
        .await;
    assert_eq!(
        lowered["data"]["setConflictBands"]["userErrors"],
        json!([]),
        "{lowered}"
    );
    let after = app.gql_as(MANAGER, CHECK, asked).await;
    assert_eq!(
        after["data"]["checkConflicts"][0]["hasConflict"], true,
        "{after}"
    );
    let bands = app
        .gql_as(
            MANAGER,
            "{ conflictBands { matchAt possibleAt } }",
            json!({}),
        )
        .await;
    assert_eq!(
        bands["data"]["conflictBands"],
        json!({ "matchAt": score, "possibleAt": 0.5 })
    );
}
