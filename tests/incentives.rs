//! Incentives: exact rebate maths through the API, the ledger, payouts and access.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::common::*;

const CREATE_PROGRAM: &str = "mutation($i: CreateRebateProgramInput!) { createRebateProgram(input: $i) { rebateProgram { id version } userErrors { field code message } } }";

const STATEMENT: &str = "query($p: ID!, $r: ID!) { rebateStatement(partnerId: $p, programId: $r) {
  measure { amount currency } tierReached { rate } earned { amount currency } paid { amount } payable { amount }
  nextTierThreshold { amount }
  deals(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { customer { name } } } } } }";

const SIMULATE: &str = "query($r: ID!, $v: Decimal!) { simulateRebate(programId: $r, volume: $v) { earned { amount currency } } }";

pub(crate) fn year() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        format!("{}-01-01", today.year()),
        format!("{}-12-31", today.year()),
    )
}

async fn program(app: &TestApp, method: &str, partners: &[&str]) -> String {
    let (start, end) = year();
    let input = json!({ "i": {
        "name": format!("{method} rebate"), "currency": "USD", "periodStart": start, "periodEnd": end, "method": method,
        "tiers": [{ "min": "0", "max": "100000", "rate": "0.02" }, { "min": "100000", "max": null, "rate": "0.04" }],
        "partnerIds": partners
    } });
    let response = app.gql_as(MANAGER, CREATE_PROGRAM, input).await;
    assert_eq!(
        response["data"]["createRebateProgram"]["userErrors"],
        json!([]),
        "{response}"
    );
    response["data"]["createRebateProgram"]["rebateProgram"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Registers, approves and wins a deal for Northwind; the day it closed (UTC).
pub(crate) async fn win(app: &TestApp, customer: &str, amount: &str) -> NaiveDate {
    let cloud = product_id(app, "PartnerGraph Cloud").await;
    let register = "mutation($i: RegisterDealInput!) { registerDeal(input: $i) { dealRegistration { id } userErrors { field message } } }";
    let input = json!({ "i": {
        "customerName": customer, "customerDomain": format!("{}.example", customer.to_lowercase().replace(' ', "-")),
        "productIds": [cloud], "estimatedValue": { "amount": amount, "currency": "USD" },
        "expectedCloseDate": (Utc::now().date_naive() + Duration::days(30)).to_string(), "submit": true
    } });
    let created = app.gql_as(ALICE_NORTHWIND, register, input).await;
    let id = created["data"]["registerDeal"]["dealRegistration"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    app.gql_as(MANAGER, "mutation($i: ApproveDealInput!) { approveDealRegistration(input: $i) { userErrors { message } } }", json!({ "i": { "id": id } })).await;
    let won = "mutation($i: MarkDealWonInput!) { markDealWon(input: $i) { dealRegistration { status closedAt } userErrors { message } } }";
    let closed = app
        .gql_as(
            ALICE_NORTHWIND,
            won,
            json!({ "i": { "id": id, "closedAmount": { "amount": amount, "currency": "USD" } } }),
        )
        .await;
    let deal = &closed["data"]["markDealWon"]["dealRegistration"];
    assert_eq!(deal["status"], "WON", "{closed}");
    DateTime::parse_from_rfc3339(deal["closedAt"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {closed}"))
        .with_timezone(&Utc)
        .date_naive()
}

/// A program's period is whole UTC days, both ends included: a deal closed today counts
/// in a program of today alone, not in one that ends yesterday or starts tomorrow.
#[tokio::test]
async fn a_program_counts_the_deals_closed_on_the_days_of_its_period() {
    for (from, to, measure) in [(0, 0, "60000.00"), (-1, -1, "0.00"), (1, 1, "0.00")] {
        let app = TestApp::demo().await;
        let northwind = partner_id(&app, "Northwind").await;
        let closed = win(&app, "Massive Dynamic", "60000.00").await;
        let day = |offset: i64| (closed + Duration::days(offset)).to_string();
        let input = json!({ "i": {
            "name": "Day rebate", "currency": "USD", "periodStart": day(from), "periodEnd": day(to),
            "method": "RETROACTIVE", "tiers": [{ "min": "0", "max": null, "rate": "0.02" }],
            "partnerIds": [northwind]
        } });
        let created = app.gql_as(MANAGER, CREATE_PROGRAM, input).await;
        let program = &created["data"]["createRebateProgram"]["rebateProgram"]["id"];
        let statement = app
            .gql_as(MANAGER, STATEMENT, json!({ "p": northwind, "r": program }))
            .await;
        let statement = &statement["data"]["rebateStatement"];
        assert_eq!(
            statement["measure"]["amount"], measure,
            "{from}..{to}: {statement}"
        );
        // The deals listed are the deals measured.
        let listed = if measure == "0.00" { 0 } else { 1 };
        assert_eq!(statement["deals"]["totalCount"], listed, "{statement}");
    }
}

#[tokio::test]
async fn a_retroactive_program_earns_exactly_the_reached_rate_on_all_won_revenue() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let retro = program(&app, "RETROACTIVE", &[&northwind]).await;
    win(&app, "Massive Dynamic", "60000.00").await;
    win(&app, "Pied Piper", "50000.00").await;

    let statement = app
        .gql_as(
            ALICE_NORTHWIND,
            STATEMENT,
            json!({ "p": northwind, "r": retro }),
        )
        .await["data"]["rebateStatement"]
        .clone();
    assert_eq!(
        statement["earned"],
        json!({ "amount": "4400.00", "currency": "USD" }),
        "{statement}"
    );
    assert_eq!(statement["measure"]["amount"], "110000.00");
    assert_eq!(statement["tierReached"]["rate"], "0.04");
    assert_eq!(statement["payable"]["amount"], "4400.00");
    assert!(statement["nextTierThreshold"].is_null());
    // The counted deals page like any list, earliest close first.
    let deals = &statement["deals"];
    assert_eq!(deals["totalCount"], 2, "{statement}");
    assert_eq!(
        deals["edges"][0]["node"]["customer"]["name"],
        "Massive Dynamic"
    );
    assert_eq!(deals["pageInfo"]["hasNextPage"], true);
    let rest = app
        .gql_as(
            ALICE_NORTHWIND,
            "query($p: ID!, $r: ID!, $after: String) { rebateStatement(partnerId: $p, programId: $r) {
              deals(first: 5, after: $after) { pageInfo { hasNextPage } edges { node { customer { name } } } } } }",
            json!({ "p": northwind, "r": retro, "after": deals["pageInfo"]["endCursor"] }),
        )
        .await["data"]["rebateStatement"]["deals"]
        .clone();
    assert_eq!(
        rest,
        json!({ "pageInfo": { "hasNextPage": false },
                "edges": [{ "node": { "customer": { "name": "Pied Piper" } } }] })
    );

    let simulated = app
        .gql_as(
            ALICE_NORTHWIND,
            SIMULATE,
            json!({ "r": retro, "v": "250000.00" }),
        )
        .await;
    assert_eq!(
        simulated["data"]["simulateRebate"]["earned"],
        json!({ "amount": "10000.00", "currency": "USD" })
    );
    let banded = program(&app, "BANDED", &[&northwind]).await;
    let simulated = app
        .gql_as(MANAGER, SIMULATE, json!({ "r": banded, "v": "110000.00" }))
        .await;
    assert_eq!(
        simulated["data"]["simulateRebate"]["earned"]["amount"],
        "2400.00"
    );

    // The same revenue never earns twice: the later, overlapping program counts none of it.
    let overlap = app
        .gql_as(MANAGER, STATEMENT, json!({ "p": northwind, "r": banded }))
        .await["data"]["rebateStatement"]
        .clone();
    assert_eq!(overlap["measure"]["amount"], "0.00");
    assert_eq!(overlap["earned"]["amount"], "0.00");

    // With the session remembered, a statement is one read of the program (with whether
    // the partner is in it, which earlier programs' revenue it must leave out and, when
    // there are none, its sums); with an earlier program, one more for the sums without it.
    let token = app.login(MANAGER).await;
    app.remembered(&token).await;
    for (program, measure, statements) in [(&retro, "110000.00", 1), (&banded, "0.00", 2)] {
        let before = app.state.statements.get();
        let read = app
            .gql(
                Some(&token),
                "query($p: ID!, $r: ID!) { rebateStatement(partnerId: $p, programId: $r) {
                   measure { amount } earned { amount } paid { amount } payable { amount } } }",
                json!({ "p": northwind, "r": program }),
            )
            .await;
        assert_eq!(
            read["data"]["rebateStatement"]["measure"]["amount"], measure,
            "{read}"
        );
        assert_eq!(app.state.statements.get() - before, statements);
    }
}

#[tokio::test]
async fn the_ledger_traces_accruals_payouts_and_adjustments() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let retro = program(&app, "RETROACTIVE", &[&northwind]).await;
    win(&app, "Massive Dynamic", "60000.00").await;
    win(&app, "Pied Piper", "50000.00").await;

    let payout = "mutation($i: RecordRebatePayoutInput!) { recordRebatePayout(input: $i) { statement { paid { amount } payable { amount } } userErrors { field code } } }";
    let paid = app.gql_as(MANAGER, payout, json!({ "i": { "programId": retro, "partnerId": northwind, "amount": { "amount": "1000.00", "currency": "USD" } } })).await;
    assert_eq!(
        paid["data"]["recordRebatePayout"]["statement"]["payable"]["amount"], "3400.00",
        "{paid}"
    );
    let wrong = app.gql_as(MANAGER, payout, json!({ "i": { "programId": retro, "partnerId": northwind, "amount": { "amount": "-5", "currency": "USD" } } })).await;
    assert_eq!(
        error_fields(&wrong["data"]["recordRebatePayout"]),
        ["amount"]
    );

    // A rate change is an adjustment entry, never an edit.
    let update = "mutation($i: UpdateRebateTiersInput!) { updateRebateProgramTiers(input: $i) { rebateProgram { version } userErrors { field code } } }";
    let changed = app
        .gql_as(MANAGER, update, json!({ "i": { "id": retro, "version": 1, "tiers": [{ "min": "0", "max": "100000", "rate": "0.02" }, { "min": "100000", "max": null, "rate": "0.05" }] } }))
        .await;
    assert_eq!(
        changed["data"]["updateRebateProgramTiers"]["rebateProgram"]["version"], 2,
        "{changed}"
    );
    let statement = app
        .gql_as(MANAGER, STATEMENT, json!({ "p": northwind, "r": retro }))
        .await["data"]["rebateStatement"]
        .clone();
    assert_eq!(statement["earned"]["amount"], "5500.00");
    assert_eq!(statement["payable"]["amount"], "4500.00");

    let ledger = app.gql_as(ALICE_NORTHWIND, "query($p: ID!) { ledger(partnerId: $p) { edges { node { kind amount { amount } source } } } }", json!({ "p": northwind })).await;
    let entries: Vec<(String, String)> = ledger["data"]["ledger"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap().to_owned(),
                e["node"]["amount"]["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("ACCRUAL".to_string(), "1200.00".to_string()),
            ("ACCRUAL".to_string(), "3200.00".to_string()),
            ("PAYOUT".to_string(), "1000.00".to_string()),
            ("ADJUSTMENT".to_string(), "1100.00".to_string()),
        ]
    );
    assert!(ledger["data"]["ledger"]["edges"][0]["node"]["source"]
        .as_str()
        .unwrap()
        .contains("won"));
}

#[tokio::test]
async fn statements_are_private_to_the_partner_and_closed_to_direct_reps() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let retro = program(&app, "RETROACTIVE", &[&northwind]).await;
    let by_other = app
        .gql_as(
            BOB_TIERTWO,
            STATEMENT,
            json!({ "p": northwind, "r": retro }),
        )
        .await;
    assert_eq!(error_code(&by_other).as_deref(), Some("NOT_FOUND"));
    let by_rep = app
        .gql_as(REP, STATEMENT, json!({ "p": northwind, "r": retro }))
        .await;
    assert_eq!(error_code(&by_rep).as_deref(), Some("FORBIDDEN"));
    let rep_ledger = app
        .gql_as(
            REP,
            "query($p: ID!) { ledger(partnerId: $p) { edges { node { kind } } } }",
            json!({ "p": northwind }),
        )
        .await;
    assert_eq!(error_code(&rep_ledger).as_deref(), Some("FORBIDDEN"));
    let programs = app
        .gql_as(
            BOB_TIERTWO,
            "{ rebatePrograms { totalCount nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        programs["data"]["rebatePrograms"],
        json!({ "totalCount": 0, "nodes": [] }),
        "bob's organisation is in no program: {programs}"
    );
    let bad = app
        .gql_as(MANAGER, CREATE_PROGRAM, json!({ "i": { "name": "x", "currency": "USD", "periodStart": "2026-01-01", "periodEnd": "2026-12-31", "method": "BANDED", "tiers": [{ "min": "0", "max": null, "rate": "2" }], "partnerIds": [northwind] } }))
        .await;
    assert_eq!(error_fields(&bad["data"]["createRebateProgram"]), ["tiers"]);
}

#[tokio::test]
async fn the_demo_program_shows_summit_s_won_deal() {
    let app = TestApp::demo().await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let programs = app
        .gql_as(
            DAVE_SUMMIT,
            "{ rebatePrograms { nodes { id name } } }",
            json!({}),
        )
        .await;
    let program = programs["data"]["rebatePrograms"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{programs}"))
        .to_owned();
    let statement = app
        .gql_as(DAVE_SUMMIT, STATEMENT, json!({ "p": summit, "r": program }))
        .await["data"]["rebateStatement"]
        .clone();
    // Wayne Enterprises, won for 52,500.00: 2% in the first band.
    assert_eq!(statement["measure"]["amount"], "52500.00");
    assert_eq!(statement["earned"]["amount"], "1050.00");
    assert_eq!(statement["nextTierThreshold"]["amount"], "100000.00");
}

const PAYOUT: &str = "mutation($i: RecordRebatePayoutInput!) { recordRebatePayout(input: $i) { statement { paid { amount } payable { amount } inProgram } userErrors { field code message } } }";

fn pay(program: &str, partner: &str, amount: &str) -> Value {
    json!({ "i": { "programId": program, "partnerId": partner, "amount": { "amount": amount, "currency": "USD" } } })
}

#[tokio::test]
async fn a_payout_above_what_is_payable_is_refused_and_changes_nothing() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let retro = program(&app, "RETROACTIVE", &[&northwind]).await;
    win(&app, "Massive Dynamic", "60000.00").await; // earns 1200.00

    let over = app
        .gql_as(MANAGER, PAYOUT, pay(&retro, &northwind, "1200.01"))
        .await;
    let payload = &over["data"]["recordRebatePayout"];
    assert_eq!(payload["statement"], Value::Null, "{over}");
    assert_eq!(payload["userErrors"][0]["code"], "OVERPAYMENT", "{over}");
    assert_eq!(payload["userErrors"][0]["field"], "amount");

    let exact = app
        .gql_as(MANAGER, PAYOUT, pay(&retro, &northwind, "1200.00"))
        .await;
    assert_eq!(
        exact["data"]["recordRebatePayout"]["statement"]["payable"]["amount"], "0.00",
        "{exact}"
    );
    let again = app
        .gql_as(MANAGER, PAYOUT, pay(&retro, &northwind, "0.01"))
        .await;
    assert_eq!(
        error_codes(&again["data"]["recordRebatePayout"]),
        ["OVERPAYMENT"]
    );
    let statement = app
        .gql_as(MANAGER, STATEMENT, json!({ "p": northwind, "r": retro }))
        .await["data"]["rebateStatement"]
        .clone();
    assert_eq!(statement["paid"]["amount"], "1200.00");
    assert_eq!(statement["payable"]["amount"], "0.00");
}

async fn earned(app: &TestApp, program: &str, partner: &str) -> Value {
    app.gql_as(MANAGER, STATEMENT, json!({ "p": partner, "r": program }))
        .await["data"]["rebateStatement"]["earned"]["amount"]
        .clone()
}

#[tokio::test]
async fn updating_tiers_without_a_cap_keeps_it_and_only_null_removes_it() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let (start, end) = year();
    let created = app.gql_as(MANAGER, CREATE_PROGRAM, json!({ "i": {
        "name": "Capped", "currency": "USD", "periodStart": start, "periodEnd": end, "method": "RETROACTIVE",
        "tiers": [{ "min": "0", "max": null, "rate": "0.10" }], "cap": "20000", "partnerIds": [northwind]
    } })).await;
    let capped = created["data"]["createRebateProgram"]["rebateProgram"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    win(&app, "Massive Dynamic", "60000.00").await;
    assert_eq!(
        earned(&app, &capped, &northwind).await,
        "2000.00",
        "10% of the 20,000 cap"
    );

    let update = "mutation($i: UpdateRebateTiersInput!) { updateRebateProgramTiers(input: $i) { rebateProgram { version cap { amount } } userErrors { field code } } }";
    let tiers = json!([{ "min": "0", "max": null, "rate": "0.05" }]);
    let kept = app
        .gql_as(
            MANAGER,
            update,
            json!({ "i": { "id": capped, "version": 1, "tiers": tiers } }),
        )
        .await;
    assert_eq!(
        kept["data"]["updateRebateProgramTiers"]["rebateProgram"]["cap"]["amount"], "20000.00",
        "{kept}"
    );
    assert_eq!(
        earned(&app, &capped, &northwind).await,
        "1000.00",
        "5% of the kept cap"
    );

    let removed = app
        .gql_as(
            MANAGER,
            update,
            json!({ "i": { "id": capped, "version": 2, "tiers": tiers, "cap": null } }),
        )
        .await;
    assert_eq!(
        removed["data"]["updateRebateProgramTiers"]["rebateProgram"]["cap"],
        Value::Null,
        "{removed}"
    );
    assert_eq!(
        earned(&app, &capped, &northwind).await,
        "3000.00",
        "5% of everything"
    );
}

#[tokio::test]
async fn a_partner_that_changes_tier_keeps_and_is_paid_what_it_accrued() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let tiers = app
        .gql_as(
            MANAGER,
            "query($p: ID!) { partner(id: $p) { tier { id } } tiers { nodes { id } } }",
            json!({ "p": northwind }),
        )
        .await;
    let current = tiers["data"]["partner"]["tier"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = tiers["data"]["tiers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .find(|id| *id != current)
        .unwrap();
    let (start, end) = year();
    let created = app.gql_as(MANAGER, CREATE_PROGRAM, json!({ "i": {
        "name": "Tier rebate", "currency": "USD", "periodStart": start, "periodEnd": end, "method": "RETROACTIVE",
        "tiers": [{ "min": "0", "max": null, "rate": "0.02" }], "tierIds": [current]
    } })).await;
    let by_tier = created["data"]["createRebateProgram"]["rebateProgram"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    win(&app, "Massive Dynamic", "60000.00").await; // accrues 1200.00

    let change = "mutation($i: ChangePartnerTierInput!) { changePartnerTier(input: $i) { userErrors { field code } } }";
    let moved = app
        .gql_as(
            MANAGER,
            change,
            json!({ "i": { "partnerId": northwind, "tierId": other, "reason": "review" } }),
        )
        .await;
    assert_eq!(
        moved["data"]["changePartnerTier"]["userErrors"],
        json!([]),
        "{moved}"
    );
    win(&app, "Pied Piper", "50000.00").await; // won after leaving: earns nothing here

    let statement = app
        .gql_as(ALICE_NORTHWIND, "query($p: ID!, $r: ID!) { rebateStatement(partnerId: $p, programId: $r) { earned { amount } payable { amount } inProgram } }", json!({ "p": northwind, "r": by_tier }))
        .await;
    assert_eq!(
        statement["data"]["rebateStatement"],
        json!({ "earned": { "amount": "1200.00" }, "payable": { "amount": "1200.00" }, "inProgram": false }),
        "{statement}"
    );
    let paid = app
        .gql_as(MANAGER, PAYOUT, pay(&by_tier, &northwind, "1200.00"))
        .await;
    assert_eq!(
        paid["data"]["recordRebatePayout"]["statement"],
        json!({ "paid": { "amount": "1200.00" }, "payable": { "amount": "0.00" }, "inProgram": false }),
        "{paid}"
    );
    let over = app
        .gql_as(MANAGER, PAYOUT, pay(&by_tier, &northwind, "1.00"))
        .await;
    assert_eq!(
        error_codes(&over["data"]["recordRebatePayout"]),
        ["OVERPAYMENT"]
    );
}
