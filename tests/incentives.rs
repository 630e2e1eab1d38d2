//! Incentives: exact rebate maths through the API, the ledger, MDF invariants and access.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::common::*;

const CREATE_PROGRAM: &str = "mutation($i: CreateRebateProgramInput!) { createRebateProgram(input: $i) { rebateProgram { id version } userErrors { field code message } } }";
const STATEMENT: &str = "query($p: ID!, $r: ID!) { rebateStatement(partnerId: $p, programId: $r) {
  measure { amount currency } tierReached { rate } earned { amount currency } paid { amount } payable { amount }
  nextTierThreshold { amount }
  deals(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { customer { name } } } } } }";
const SIMULATE: &str = "query($r: ID!, $v: Decimal!) { simulateRebate(programId: $r, volume: $v) { earned { amount currency } } }";

fn year() -> (String, String) {
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
async fn win(app: &TestApp, customer: &str, amount: &str) -> NaiveDate {
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

fn usd(amount: &str) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

const ALLOCATE: &str = "mutation($i: AllocateMdfInput!) { allocateMdf(input: $i) { mdfAllocation { id amount { amount } } userErrors { field code message } } }";

async fn budget(app: &TestApp, amount: &str) -> String {
    let (start, end) = year();
    let create = "mutation($i: CreateMdfBudgetInput!) { createMdfBudget(input: $i) { mdfBudget { id remaining { amount } } userErrors { field } } }";
    let made = app.gql_as(MANAGER, create, json!({ "i": { "name": "H2 MDF", "amount": usd(amount), "periodStart": start, "periodEnd": end } })).await;
    made["data"]["createMdfBudget"]["mdfBudget"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_owned()
}

#[tokio::test]
async fn mdf_flows_from_budget_to_a_claim_paid_exactly_once() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let budget = budget(&app, "15000.00").await;
    let first = app.gql_as(MANAGER, ALLOCATE, json!({ "i": { "budgetId": budget, "partnerId": northwind, "amount": usd("10000.00") } })).await;
    let allocation = first["data"]["allocateMdf"]["mdfAllocation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let second = app
        .gql_as(
            MANAGER,
            ALLOCATE,
            json!({ "i": { "budgetId": budget, "partnerId": summit, "amount": usd("6000.00") } }),
        )
        .await;
    assert_eq!(
        error_fields(&second["data"]["allocateMdf"]),
        ["amount"],
        "Σ allocations may not exceed the budget"
    );

    let request = "mutation($i: CreateMdfRequestInput!) { createMdfRequest(input: $i) { mdfRequest { activities { id status } } userErrors { field } } }";
    let foreign = app.gql_as(DAVE_SUMMIT, request, json!({ "i": { "allocationId": allocation, "title": "x", "activities": [{ "description": "y", "amount": usd("1") }] } })).await;
    assert_eq!(
        error_fields(&foreign["data"]["createMdfRequest"]),
        ["allocationId"]
    );
    let made = app
        .gql_as(ALICE_NORTHWIND, request, json!({ "i": { "allocationId": allocation, "title": "Q3 roadshow", "activities": [{ "description": "Dinner event", "amount": usd("5000.00") }] } }))
        .await;
    let activity = made["data"]["createMdfRequest"]["mdfRequest"]["activities"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_owned();

    let approve = "mutation($i: ApproveMdfActivityInput!) { approveMdfActivity(input: $i) { mdfActivity { status approved { amount } } userErrors { field code } } }";
    let too_much = app
        .gql_as(
            MANAGER,
            approve,
            json!({ "i": { "activityId": activity, "approvedAmount": usd("6000.00") } }),
        )
        .await;
    assert_eq!(
        error_fields(&too_much["data"]["approveMdfActivity"]),
        ["approvedAmount"]
    );
    let approved = app.gql_as(MANAGER, approve, json!({ "i": { "activityId": activity, "approvedAmount": usd("4000.00"), "requiredProof": "invoice" } })).await;
    assert_eq!(
        approved["data"]["approveMdfActivity"]["mdfActivity"]["status"], "APPROVED",
        "{approved}"
    );

    let claim = "mutation($i: SubmitMdfClaimInput!) { submitMdfClaim(input: $i) { mdfClaim { id status amount { amount } } userErrors { field code } } }";
    let over = app.gql_as(ALICE_NORTHWIND, claim, json!({ "i": { "activityId": activity, "amount": usd("4500.00"), "proofNote": "invoice 17" } })).await;
    assert_eq!(
        error_fields(&over["data"]["submitMdfClaim"]),
        ["amount"],
        "a claim may not exceed its approved amount"
    );
    let no_proof = app
        .gql_as(
            ALICE_NORTHWIND,
            claim,
            json!({ "i": { "activityId": activity, "amount": usd("4000.00") } }),
        )
        .await;
    assert_eq!(error_fields(&no_proof["data"]["submitMdfClaim"]), ["proof"]);
    let submitted = app.gql_as(ALICE_NORTHWIND, claim, json!({ "i": { "activityId": activity, "amount": usd("4000.00"), "proofNote": "invoice 17" } })).await;
    let claim_id = submitted["data"]["submitMdfClaim"]["mdfClaim"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();

    let act = |name: &str| {
        format!("mutation($i: MdfClaimActionInput!) {{ {name}(input: $i) {{ mdfClaim {{ status paidAt }} userErrors {{ field code }} }} }}")
    };
    let early = app
        .gql_as(
            MANAGER,
            &act("markMdfClaimPaid"),
            json!({ "i": { "id": claim_id } }),
        )
        .await;
    assert_eq!(
        error_codes(&early["data"]["markMdfClaimPaid"]),
        ["ILLEGAL_TRANSITION"],
        "only approved claims are paid"
    );
    app.gql_as(
        MANAGER,
        &act("approveMdfClaim"),
        json!({ "i": { "id": claim_id } }),
    )
    .await;
    let paid = app
        .gql_as(
            MANAGER,
            &act("markMdfClaimPaid"),
            json!({ "i": { "id": claim_id } }),
        )
        .await;
    assert_eq!(
        paid["data"]["markMdfClaimPaid"]["mdfClaim"]["status"], "PAID",
        "{paid}"
    );
    let again = app
        .gql_as(
            MANAGER,
            &act("markMdfClaimPaid"),
            json!({ "i": { "id": claim_id } }),
        )
        .await;
    assert_eq!(
        error_codes(&again["data"]["markMdfClaimPaid"]),
        ["ILLEGAL_TRANSITION"],
        "paid once, and only once"
    );

    let ledger = app.gql_as(MANAGER, "query($p: ID!) { ledger(partnerId: $p) { edges { node { kind amount { amount } } } } }", json!({ "p": northwind })).await;
    let payments: Vec<&Value> = ledger["data"]["ledger"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["kind"] == "MDF_PAYMENT")
        .collect();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["node"]["amount"]["amount"], "4000.00");
}

#[tokio::test]
async fn mdf_allocations_page_and_each_partner_sees_only_its_own() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let summit = partner_id(&app, "Summit Distribution").await;
    let budget = budget(&app, "15000.00").await;
    for (partner, amount) in [
        (&northwind, "3000.00"),
        (&summit, "2000.00"),
        (&northwind, "1000.00"),
    ] {
        let made = app
            .gql_as(
                MANAGER,
                ALLOCATE,
                json!({ "i": { "budgetId": budget, "partnerId": partner, "amount": usd(amount) } }),
            )
            .await;
        assert_eq!(
            error_fields(&made["data"]["allocateMdf"]),
            Vec::<String>::new(),
            "{made}"
        );
    }
    let list = "query($after: String) { mdfAllocations(first: 1, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { partner { name } amount { amount } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .gql_as(ALICE_NORTHWIND, list, json!({ "after": after }))
            .await["data"]["mdfAllocations"]
            .clone();
        for node in page["nodes"].as_array().unwrap_or_else(|| panic!("{page}")) {
            assert_eq!(node["partner"]["name"], "Northwind", "{page}");
            seen.push(node["amount"]["amount"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(
                page["totalCount"].as_u64(),
                Some(seen.len() as u64),
                "{page}"
            );
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert!(
        seen.contains(&json!("3000.00")) && seen.contains(&json!("1000.00")),
        "{seen:?}"
    );

    let all = app
        .gql_as(MANAGER, "{ mdfAllocations { totalCount } }", json!({}))
        .await;
    let everyone = all["data"]["mdfAllocations"]["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        everyone > seen.len() as u64,
        "the manager sees Summit's too: {all}"
    );
}

#[tokio::test]
async fn concurrent_allocations_never_overspend_a_budget() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let budget = budget(&app, "15000.00").await;
    let manager = app.login(MANAGER).await;
    let mut calls = Vec::new();
    for _ in 0..10 {
        let router = app.router.clone();
        let token = manager.clone();
        let input = json!({ "i": { "budgetId": budget, "partnerId": northwind, "amount": usd("2000.00") } });
        calls.push(tokio::spawn(async move {
            gql_on(&router, Some(&token), ALLOCATE, input).await
        }));
    }
    let mut granted = 0;
    for call in calls {
        let response = call.await.unwrap();
        assert!(response.get("errors").is_none(), "{response}");
        if !response["data"]["allocateMdf"]["mdfAllocation"].is_null() {
            granted += 1;
        }
    }
    assert_eq!(granted, 7, "7 × 2000 fits in 15000; an eighth would not");
    let budgets = app
        .gql_as(
            MANAGER,
            "{ mdfBudgets { nodes { id allocated { amount } remaining { amount } } } }",
            json!({}),
        )
        .await;
    let ours = budgets["data"]["mdfBudgets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == budget.as_str())
        .unwrap()
        .clone();
    assert_eq!(ours["allocated"]["amount"], "14000.00");
    assert_eq!(ours["remaining"]["amount"], "1000.00");
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

#[tokio::test]
async fn bonuses_and_spiffs_are_awarded_per_won_deal_decided_and_paid_once() {
    let app = TestApp::demo().await;
    let (start, end) = year();
    let cloud = product_id(&app, "PartnerGraph Cloud").await;
    let create = "mutation($i: CreateIncentiveRuleInput!) { createIncentiveRule(input: $i) { ruleId userErrors { field code } } }";
    let spiff = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Cloud SPIFF", "kind": "SPIFF", "amount": usd("500.00"), "productId": cloud, "periodStart": start, "periodEnd": end } }))
        .await;
    assert_eq!(
        spiff["data"]["createIncentiveRule"]["userErrors"],
        json!([]),
        "{spiff}"
    );
    let bonus = app
        .gql_as(MANAGER, create, json!({ "i": { "name": "Registration bonus", "kind": "REGISTRATION_BONUS", "rate": "0.05", "currency": "USD", "periodStart": start, "periodEnd": end } }))
        .await;
    assert_eq!(
        bonus["data"]["createIncentiveRule"]["userErrors"],
        json!([]),
        "{bonus}"
    );
    let bad = app.gql_as(MANAGER, create, json!({ "i": { "name": "x", "kind": "REGISTRATION_BONUS", "rate": "5", "periodStart": start, "periodEnd": end } })).await;
    assert_eq!(error_fields(&bad["data"]["createIncentiveRule"]), ["rate"]);

    win(&app, "Massive Dynamic", "60000.00").await;
    let list = "{ incentiveAwards { edges { node { id ruleName status amount { amount } dealRegistration { customer { name } } } } } }";
    let awards = app.gql_as(ALICE_NORTHWIND, list, json!({})).await["data"]["incentiveAwards"]
        ["edges"]
        .clone();
    let mut amounts: Vec<(String, String)> = awards
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["ruleName"].as_str().unwrap().to_owned(),
                e["node"]["amount"]["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    amounts.sort();
    assert_eq!(
        amounts,
        [
            ("Cloud SPIFF".to_string(), "500.00".to_string()),
            ("Registration bonus".to_string(), "3000.00".to_string())
        ]
    );
    assert!(awards
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["status"] == "PENDING"));
    let spiff_award = awards
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["ruleName"] == "Cloud SPIFF")
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bonus_award = awards
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["ruleName"] == "Registration bonus")
        .unwrap()["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let act = |name: &str| {
        format!("mutation($i: IncentiveAwardActionInput!) {{ {name}(input: $i) {{ incentiveAward {{ status reason }} userErrors {{ field code }} }} }}")
    };
    let no_reason = app
        .gql_as(
            MANAGER,
            &act("declineIncentiveAward"),
            json!({ "i": { "id": bonus_award } }),
        )
        .await;
    assert_eq!(
        error_fields(&no_reason["data"]["declineIncentiveAward"]),
        ["reason"]
    );
    let declined = app
        .gql_as(
            MANAGER,
            &act("declineIncentiveAward"),
            json!({ "i": { "id": bonus_award, "reason": "duplicate of a manual credit" } }),
        )
        .await;
    assert_eq!(
        declined["data"]["declineIncentiveAward"]["incentiveAward"]["status"],
        "DECLINED"
    );
    let by_partner = app
        .gql_as(
            ALICE_NORTHWIND,
            &act("approveIncentiveAward"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(error_code(&by_partner).as_deref(), Some("FORBIDDEN"));
    app.gql_as(
        MANAGER,
        &act("approveIncentiveAward"),
        json!({ "i": { "id": spiff_award } }),
    )
    .await;
    let paid = app
        .gql_as(
            MANAGER,
            &act("markIncentiveAwardPaid"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(
        paid["data"]["markIncentiveAwardPaid"]["incentiveAward"]["status"], "PAID",
        "{paid}"
    );
    let twice = app
        .gql_as(
            MANAGER,
            &act("markIncentiveAwardPaid"),
            json!({ "i": { "id": spiff_award } }),
        )
        .await;
    assert_eq!(
        error_codes(&twice["data"]["markIncentiveAwardPaid"]),
        ["ILLEGAL_TRANSITION"]
    );
    let other = app.gql_as(BOB_TIERTWO, list, json!({})).await;
    assert_eq!(
        other["data"]["incentiveAwards"]["edges"],
        json!([]),
        "partners see only their own awards"
    );
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
