//! The conversation on a joint business plan (comments, the partner's proposed changes and
//! the manager's decision) and its quarterly reviews (a snapshot of attainment, both sides'
//! notes, the next quarter's adjusted targets).

use serde_json::{json, Value};

use crate::common::*;
use crate::plan_contents::{move_plan, northwind_plan, plan_act, plan_node};

const COMMENT: &str = "mutation($i: CommentOnJointBusinessPlanInput!){ commentOnJointBusinessPlan(input: $i){
    comment { id body proposalStatus author { id }
              proposedChanges { targets { quarter amount { amount currency } } targetAccounts { name domain } } }
    jointBusinessPlan { id version targets { quarter amount { amount } } targetAccounts { name } }
    userErrors { field code message } } }";

const RESOLVE: &str = "mutation($i: ResolveJointBusinessPlanProposalInput!){ resolveJointBusinessPlanProposal(input: $i){
    comment { id proposalStatus resolutionNote resolvedBy { id } }
    jointBusinessPlan { id targets { quarter amount { amount } } targetAccounts { name } }
    userErrors { field code message } } }";

const REVIEW: &str =
    "mutation($i: RecordJointBusinessPlanReviewInput!){ recordJointBusinessPlanReview(input: $i){
    review { id quarter weightedAttainment objectives { name actual attainment }
             revenueByQuarter { quarter actual { amount } }
             vendorNotes adjustments partnerNotes
             targetChanges { quarter currency from { amount } to { amount } } }
    jointBusinessPlan { id targets { quarter amount { amount currency } } }
    userErrors { field code message } } }";

const NOTES: &str = "mutation($i: AddJointBusinessPlanReviewNotesInput!){ addJointBusinessPlanReviewNotes(input: $i){
    review { id partnerNotes partnerNotedBy { id } } userErrors { field code message } } }";

async fn run(app: &TestApp, token: &str, query: &str, field: &str, input: Value) -> Value {
    let done = app.gql(Some(token), query, json!({ "i": input })).await;
    assert!(done["errors"].is_null(), "{done}");
    done["data"][field].clone()
}

fn this_quarter() -> (String, String) {
    let today = chrono::Utc::now().date_naive();
    let label = |d: chrono::NaiveDate| {
        let month: u32 = d.format("%m").to_string().parse().unwrap();
        format!("{}-Q{}", d.format("%Y"), (month - 1) / 3 + 1)
    };
    let first_of_next = {
        let month: u32 = today.format("%m").to_string().parse().unwrap();
        let q_end_month = (month - 1) / 3 * 3 + 3;
        let (year, next_month) = if q_end_month == 12 {
            (
                today.format("%Y").to_string().parse::<i32>().unwrap() + 1,
                1,
            )
        } else {
            (
                today.format("%Y").to_string().parse::<i32>().unwrap(),
                q_end_month + 1,
            )
        };
        chrono::NaiveDate::from_ymd_opt(year, next_month, 1).unwrap()
    };
    (label(today), label(first_of_next))
}

#[tokio::test]
async fn the_partner_proposes_a_change_and_the_manager_accepts_it() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let bob = app.login(BOB_TIERTWO).await;
    let plan = northwind_plan(&app, &manager).await;
    let id = plan["id"].clone();
    let (quarter, _) = this_quarter();
    let proposal = json!({ "id": id, "body": "Add Blue Harbor and a target for this quarter",
        "changes": { "targets": [{ "quarter": quarter, "amount": { "amount": "25000", "currency": "USD" } }],
                     "targetAccounts": [{ "name": "Blue Harbor Health", "domain": "blueharbor.example" }] } });
    // Not before it is shared: a draft is invisible to the partner.
    let early = run(
        &app,
        &alice,
        COMMENT,
        "commentOnJointBusinessPlan",
        proposal.clone(),
    )
    .await;
    assert_eq!(early["userErrors"][0]["code"], "NOT_FOUND", "{early}");
    move_plan(&app, &manager, "shareJointBusinessPlan", &id).await;

    let said = run(
        &app,
        &alice,
        COMMENT,
        "commentOnJointBusinessPlan",
        json!({ "id": id, "body": "Looks right to us." }),
    )
    .await;
    assert_eq!(said["userErrors"], json!([]), "{said}");
    assert!(said["comment"]["proposalStatus"].is_null());
    let proposed = run(
        &app,
        &alice,
        COMMENT,
        "commentOnJointBusinessPlan",
        proposal,
    )
    .await;
    assert_eq!(proposed["userErrors"], json!([]), "{proposed}");
    let comment = &proposed["comment"];
    assert_eq!(comment["proposalStatus"], "OPEN");
    assert_eq!(
        comment["proposedChanges"]["targetAccounts"][0]["domain"],
        "blueharbor.example"
    );
    // Proposing changes nothing yet.
    assert_eq!(proposed["jointBusinessPlan"]["targetAccounts"], json!([]));
    assert_eq!(
        proposed["jointBusinessPlan"]["version"],
        plan["version"].as_i64().unwrap() + 1
    );

    // A bad proposal is refused with the field under `changes`; TierTwo cannot comment.
    let bad = run(&app, &alice, COMMENT, "commentOnJointBusinessPlan",
        json!({ "id": id, "body": "x", "changes": { "targetAccounts": [{ "name": "Acme", "country": "Atlantis" }] } })).await;
    assert_eq!(
        bad["userErrors"][0]["field"], "changes.targetAccounts.0.country",
        "{bad}"
    );
    let stranger = run(
        &app,
        &bob,
        COMMENT,
        "commentOnJointBusinessPlan",
        json!({ "id": id, "body": "hi" }),
    )
    .await;
    assert_eq!(stranger["userErrors"][0]["code"], "NOT_FOUND");
    // Partners cannot decide proposals.
    let decided = app
        .gql(
            Some(&alice),
            RESOLVE,
            json!({ "i": { "id": comment["id"], "accept": true } }),
        )
        .await;
    assert_eq!(
        error_code(&decided).as_deref(),
        Some("FORBIDDEN"),
        "{decided}"
    );

    let accepted = run(
        &app,
        &manager,
        RESOLVE,
        "resolveJointBusinessPlanProposal",
        json!({ "id": comment["id"], "accept": true, "note": "Agreed" }),
    )
    .await;
    assert_eq!(accepted["userErrors"], json!([]), "{accepted}");
    assert_eq!(accepted["comment"]["proposalStatus"], "ACCEPTED");
    assert_eq!(
        accepted["jointBusinessPlan"]["targetAccounts"],
        json!([{ "name": "Blue Harbor Health" }])
    );
    assert_eq!(
        accepted["jointBusinessPlan"]["targets"],
        json!([{ "quarter": quarter, "amount": { "amount": "25000.00" } }])
    );
    let again = run(
        &app,
        &manager,
        RESOLVE,
        "resolveJointBusinessPlanProposal",
        json!({ "id": comment["id"], "accept": false }),
    )
    .await;
    assert_eq!(again["userErrors"][0]["code"], "ILLEGAL_TRANSITION");

    // Once accepted by the partner, the plan takes comments but no proposals.
    move_plan(&app, &alice, "acceptJointBusinessPlan", &id).await;
    let late = run(
        &app,
        &alice,
        COMMENT,
        "commentOnJointBusinessPlan",
        json!({ "id": id, "body": "more", "changes": { "name": "renamed" } }),
    )
    .await;
    assert_eq!(
        late["userErrors"][0]["code"], "ILLEGAL_TRANSITION",
        "{late}"
    );
    let listed = app
        .gql(Some(&alice), "query($id: ID!){ node(id: $id){ ... on JointBusinessPlan { comments(first: 10){ totalCount edges { node { body proposalStatus } } } } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        listed["data"]["node"]["comments"]["totalCount"], 2,
        "{listed}"
    );
    let node = app
        .gql(
            Some(&bob),
            "query($id: ID!){ node(id: $id){ id } }",
            json!({ "id": comment["id"] }),
        )
        .await;
    assert!(node["data"]["node"].is_null(), "{node}");
}

#[tokio::test]
async fn a_quarterly_review_keeps_attainment_as_it_was_and_adjusts_the_next_quarter() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let bob = app.login(BOB_TIERTWO).await;
    let plan = northwind_plan(&app, &manager).await;
    let id = plan["id"].clone();
    let (quarter, next) = this_quarter();
    plan_act(&app, &manager, "updateJointBusinessPlan", "UpdateJointBusinessPlanInput", json!({ "id": id, "changes": {
        "targets": [{ "quarter": next, "amount": { "amount": "50000", "currency": "USD" } }],
        "objectives": [{ "name": "Revenue", "metric": "REVENUE", "target": "20000", "currency": "USD", "weight": 1 }] } })).await;
    let review = json!({ "id": id, "quarter": quarter, "vendorNotes": "Strong start", "adjustments": "Lower next quarter",
                         "nextQuarterTargets": [{ "amount": "35000", "currency": "USD" }] });
    move_plan(&app, &manager, "shareJointBusinessPlan", &id).await;
    let not_yet = run(
        &app,
        &manager,
        REVIEW,
        "recordJointBusinessPlanReview",
        review.clone(),
    )
    .await;
    assert_eq!(
        not_yet["userErrors"][0]["code"], "ILLEGAL_TRANSITION",
        "{not_yet}"
    );
    move_plan(&app, &alice, "acceptJointBusinessPlan", &id).await;

    for (bad, field) in [
        (json!({ "id": id, "quarter": "1999-Q1" }), "quarter"),
        (json!({ "id": id, "quarter": next }), "quarter"),
        (
            json!({ "id": id, "quarter": quarter, "nextQuarterTargets": [{ "amount": "-1", "currency": "USD" }] }),
            "nextQuarterTargets.0",
        ),
    ] {
        let refused = run(
            &app,
            &manager,
            REVIEW,
            "recordJointBusinessPlanReview",
            bad.clone(),
        )
        .await;
        assert_eq!(refused["userErrors"][0]["field"], field, "{bad}: {refused}");
    }
    let recorded = run(
        &app,
        &manager,
        REVIEW,
        "recordJointBusinessPlanReview",
        review.clone(),
    )
    .await;
    assert_eq!(recorded["userErrors"], json!([]), "{recorded}");
    let kept = recorded["review"].clone();
    assert_eq!(
        kept["targetChanges"],
        json!([{ "quarter": next, "currency": "USD",
        "from": { "amount": "50000.00" }, "to": { "amount": "35000.00" } }])
    );
    let live = plan_node(&app, &manager, &id).await;
    assert_eq!(
        kept["weightedAttainment"],
        live["actuals"]["weightedAttainment"]
    );
    assert_eq!(
        kept["objectives"][0]["actual"],
        live["actuals"]["objectives"][0]["actual"]
    );
    let next_target = live["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["quarter"] == next.as_str())
        .cloned();
    assert_eq!(next_target.unwrap()["amount"]["amount"], "35000.00");
    let twice = run(
        &app,
        &manager,
        REVIEW,
        "recordJointBusinessPlanReview",
        review,
    )
    .await;
    assert_eq!(twice["userErrors"][0]["code"], "TAKEN");

    // A later win moves the live actuals, never the review's snapshot.
    let registration =
        crate::metrics::approved(&app, &alice, &manager, "Snapshot Corp", "USD").await;
    crate::metrics::won(
        &app,
        &alice,
        &registration,
        "5000",
        "USD",
        &chrono::Utc::now().to_rfc3339(),
    )
    .await;
    let later = app
        .gql(Some(&alice), "query($id: ID!){ node(id: $id){ ... on JointBusinessPlan {
            actuals { objectives { actual } }
            reviews(first: 5){ totalCount edges { node { id objectives { actual } weightedAttainment } } } } } }", json!({ "id": id }))
        .await;
    let node = &later["data"]["node"];
    assert_ne!(
        node["actuals"]["objectives"][0]["actual"], kept["objectives"][0]["actual"],
        "{later}"
    );
    assert_eq!(
        node["reviews"]["edges"][0]["node"]["objectives"][0]["actual"],
        kept["objectives"][0]["actual"]
    );

    // The partner's org admin adds its notes once; TierTwo sees nothing of it.
    let review_id = kept["id"].clone();
    let hidden = run(
        &app,
        &bob,
        NOTES,
        "addJointBusinessPlanReviewNotes",
        json!({ "id": review_id, "notes": "x" }),
    )
    .await;
    assert_eq!(hidden["userErrors"][0]["code"], "NOT_FOUND");
    let noted = run(
        &app,
        &alice,
        NOTES,
        "addJointBusinessPlanReviewNotes",
        json!({ "id": review_id, "notes": "We agree" }),
    )
    .await;
    assert_eq!(noted["userErrors"], json!([]), "{noted}");
    assert_eq!(noted["review"]["partnerNotes"], "We agree");
    let again = run(
        &app,
        &alice,
        NOTES,
        "addJointBusinessPlanReviewNotes",
        json!({ "id": review_id, "notes": "Changed mind" }),
    )
    .await;
    assert_eq!(again["userErrors"][0]["code"], "TAKEN");
    assert_nothing_holds(&app, "joint_business_plan_reviews").await;
    let by_node = app
        .gql(
            Some(&bob),
            "query($id: ID!){ node(id: $id){ id } }",
            json!({ "id": review_id }),
        )
        .await;
    assert!(by_node["data"]["node"].is_null());
}

/// On PostgreSQL, that no transaction holds a lock on `table`: a refused write (an early
/// return inside its transaction) ends it at once instead of leaving it open in the pool.
async fn assert_nothing_holds(app: &TestApp, table: &str) {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    for _ in 0..50 {
        let txn = app.db.begin().await.expect("a transaction");
        let locked = txn
            .execute_unprepared(&format!(
                "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT"
            ))
            .await;
        txn.rollback().await.expect("rolled back");
        if locked.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("a transaction still holds {table}");
}
