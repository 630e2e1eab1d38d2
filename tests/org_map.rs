//! The org map around a partner's contacts: reporting lines (never a loop), what each
//! person pushes, vendor staff's relationships, and the vendor's private notes.

use serde_json::{json, Value};

use crate::common::*;

const CONTACT: &str = "id name department vendorNotes reportsTo { name } directReports { name }
    influences { product { name } vertical strength }
    relationships { user { email } strength lastInteractionAt isExecutiveSponsor }";

async fn save(app: &TestApp, token: &str, mutation: &str, input: Value) -> Value {
    let name = mutation[..1].to_lowercase() + &mutation[1..];
    let input_type = if mutation.ends_with("Contact") {
        "ContactInput".to_owned()
    } else {
        format!("{mutation}Input")
    };
    let saved = app
        .gql(
            Some(token),
            &format!("mutation($i: {input_type}!){{ {name}(input: $i){{ contact {{ {CONTACT} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await;
    assert!(
        saved["errors"].is_null() || saved["data"].is_null(),
        "{saved}"
    );
    saved
}

fn payload(saved: &Value) -> Value {
    saved["data"]
        .as_object()
        .and_then(|d| d.values().next().cloned())
        .unwrap_or(Value::Null)
}

async fn contact(app: &TestApp, token: &str, id: &Value) -> Value {
    let seen = app
        .gql(
            Some(token),
            &format!("query($id: ID!){{ node(id: $id) {{ ... on Contact {{ {CONTACT} }} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert!(seen["errors"].is_null(), "{seen}");
    seen["data"]["node"].clone()
}

#[tokio::test]
async fn a_partners_org_map_has_lines_influence_relationships_and_private_notes() {
    let app = TestApp::demo().await;
    let manager = app.login(MANAGER).await;
    let northwind = partner_id(&app, "Northwind").await;
    let vp = payload(
        &save(
            &app,
            &manager,
            "CreateContact",
            json!({ "partnerId": northwind, "name": "Vera Price", "title": "VP Sales", "department": "Sales" }),
        )
        .await,
    );
    let vp_id = vp["contact"]["id"].clone();
    let rep = payload(
        &save(
            &app,
            &manager,
            "CreateContact",
            json!({ "partnerId": northwind, "name": "Ravi Patel", "department": "Sales",
                    "reportsToId": vp_id, "vendorNotes": "prefers a call on Fridays" }),
        )
        .await,
    );
    assert_eq!(rep["userErrors"], json!([]), "{rep}");
    let rep_id = rep["contact"]["id"].clone();
    let product = product_id(&app, "PartnerGraph Cloud").await;
    let pushed = payload(
        &save(
            &app,
            &manager,
            "SetContactInfluences",
            json!({ "contactId": rep_id, "influences": [
                { "productId": product, "strength": "HIGH" },
                { "vertical": "Healthcare", "strength": "MEDIUM" } ] }),
        )
        .await,
    );
    assert_eq!(pushed["userErrors"], json!([]), "{pushed}");
    let rep_user = user_id(&app, REP).await;
    let known = payload(
        &save(
            &app,
            &manager,
            "SetContactRelationship",
            json!({ "contactId": rep_id, "userId": rep_user, "strength": "HIGH",
                    "lastInteractionAt": "2026-11-30T15:00:00Z", "isExecutiveSponsor": true }),
        )
        .await,
    );
    assert_eq!(known["userErrors"], json!([]), "{known}");

    let seen = contact(&app, &manager, &rep_id).await;
    assert_eq!(seen["reportsTo"]["name"], "Vera Price");
    assert_eq!(seen["vendorNotes"], "prefers a call on Fridays");
    assert_eq!(
        seen["influences"][0]["product"]["name"],
        "PartnerGraph Cloud"
    );
    assert_eq!(seen["influences"][1]["vertical"], "Healthcare");
    assert_eq!(seen["relationships"][0]["user"]["email"], REP);
    assert_eq!(seen["relationships"][0]["isExecutiveSponsor"], true);
    let boss = contact(&app, &manager, &vp_id).await;
    assert_eq!(boss["directReports"], json!([{ "name": "Ravi Patel" }]));

    // A loop, oneself, or another partner's contact as a manager: refused, nothing changed.
    for (id, to, code) in [
        (&vp_id, &rep_id, "RULE_VIOLATION"),
        (&rep_id, &rep_id, "RULE_VIOLATION"),
    ] {
        let refused = payload(
            &save(
                &app,
                &manager,
                "UpdateContact",
                json!({ "id": id, "reportsToId": to }),
            )
            .await,
        );
        assert_eq!(
            refused["userErrors"][0]["field"], "reportsToId",
            "{refused}"
        );
        assert_eq!(refused["userErrors"][0]["code"], code, "{refused}");
    }
    assert!(contact(&app, &manager, &vp_id).await["reportsTo"].is_null());
    let summit = partner_id(&app, "Summit Distribution").await;
    let elsewhere = payload(
        &save(
            &app,
            &manager,
            "CreateContact",
            json!({ "partnerId": summit, "name": "Stray", "reportsToId": vp_id }),
        )
        .await,
    );
    assert_eq!(
        elsewhere["userErrors"][0]["code"], "NOT_FOUND",
        "{elsewhere}"
    );
    let bad = payload(
        &save(
            &app,
            &manager,
            "SetContactInfluences",
            json!({ "contactId": rep_id, "influences": [{ "strength": "LOW" }] }),
        )
        .await,
    );
    assert_eq!(bad["userErrors"][0]["field"], "influences.0", "{bad}");
    assert_eq!(
        contact(&app, &manager, &rep_id).await["influences"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Northwind's org admin sees its people without the vendor's notes, edits them, but
    // neither writes the vendor's notes nor records the vendor's relationships.
    let alice = app.login(ALICE_NORTHWIND).await;
    let own = contact(&app, &alice, &rep_id).await;
    assert_eq!(own["name"], "Ravi Patel");
    assert!(own["vendorNotes"].is_null(), "{own}");
    let moved = payload(
        &save(
            &app,
            &alice,
            "UpdateContact",
            json!({ "id": rep_id, "department": "Alliances" }),
        )
        .await,
    );
    assert_eq!(moved["contact"]["department"], "Alliances");
    let notes = payload(
        &save(
            &app,
            &alice,
            "UpdateContact",
            json!({ "id": rep_id, "vendorNotes": "mine now" }),
        )
        .await,
    );
    assert_eq!(notes["userErrors"][0]["field"], "vendorNotes");
    let relationship = save(
        &app,
        &alice,
        "SetContactRelationship",
        json!({ "contactId": rep_id, "userId": rep_user, "strength": "LOW" }),
    )
    .await;
    assert_eq!(error_code(&relationship).as_deref(), Some("FORBIDDEN"));
    // TierTwo sees none of Northwind's map.
    let bob = app.login(BOB_TIERTWO).await;
    assert!(contact(&app, &bob, &rep_id).await.is_null());
}
