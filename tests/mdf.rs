//! MDF: budgets, allocations, requests and claims paid exactly once; what each partner sees;
//! concurrent allocations within the budget.

use serde_json::{json, Value};

use crate::common::*;
use crate::incentives::year;

pub(crate) fn usd(amount: &str) -> Value {
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
