//! Contacts: who may create and see them follows the partner visibility and admin rules.

use serde_json::json;

use crate::common::*;

const CREATE_CONTACT: &str = "mutation($i: ContactInput!) { createContact(input: $i) { contact { id name dealRole influence isExecutiveSponsor } userErrors { field code } } }";

#[tokio::test]
async fn contacts_follow_the_partner_visibility_and_admin_rules() {
    let app = TestApp::demo().await;
    let northwind = partner_id(&app, "Northwind").await;
    let tiertwo = partner_id(&app, "TierTwo").await;
    let sponsor = json!({ "i": { "partnerId": northwind, "name": "Grace Hopper", "title": "CEO", "dealRole": "DECISION_MAKER", "influence": "HIGH", "isExecutiveSponsor": true } });
    let by_manager = app.gql_as(MANAGER, CREATE_CONTACT, sponsor).await;
    let contact = &by_manager["data"]["createContact"]["contact"];
    assert_eq!(contact["isExecutiveSponsor"], true, "{by_manager}");
    let contact_id = contact["id"].as_str().unwrap().to_owned();

    let by_admin = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_CONTACT,
            json!({ "i": { "partnerId": northwind, "name": "Ada", "dealRole": "TECHNICAL" } }),
        )
        .await;
    assert_eq!(
        by_admin["data"]["createContact"]["contact"]["influence"],
        "MEDIUM"
    );
    let blank = app
        .gql_as(
            ALICE_NORTHWIND,
            CREATE_CONTACT,
            json!({ "i": { "partnerId": northwind, "name": "", "email": "nope" } }),
        )
        .await;
    assert_eq!(
        error_fields(&blank["data"]["createContact"]),
        ["name", "email"]
    );

    // Another organisation's contacts do not exist for bob; a member who is not its
    // organisation's admin may not add any.
    let node = app
        .gql_as(
            BOB_TIERTWO,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": contact_id }),
        )
        .await;
    assert!(node["data"]["node"].is_null());
    let foreign = app
        .gql_as(
            BOB_TIERTWO,
            CREATE_CONTACT,
            json!({ "i": { "partnerId": northwind, "name": "X" } }),
        )
        .await;
    assert_eq!(
        error_codes(&foreign["data"]["createContact"]),
        ["NOT_FOUND"]
    );
    let theirs = app
        .gql_as(
            BOB_TIERTWO,
            CREATE_CONTACT,
            json!({ "i": { "partnerId": tiertwo, "name": "Y" } }),
        )
        .await;
    assert_eq!(
        theirs["data"]["createContact"]["contact"]["name"], "Y",
        "an admin adds to its own organisation: {theirs}"
    );
    let member = northwind_member(&app).await;
    let own = app
        .gql(
            Some(&member),
            CREATE_CONTACT,
            json!({ "i": { "partnerId": northwind, "name": "X" } }),
        )
        .await;
    assert_eq!(error_code(&own).as_deref(), Some("FORBIDDEN"));

    let seen = app.gql_as(ALICE_NORTHWIND, "query($id: ID!) { partner(id: $id) { contacts(first: 50) { totalCount edges { node { name } } } } }", json!({ "id": northwind })).await;
    let names: Vec<&str> = seen["data"]["partner"]["contacts"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{seen}"))
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    // The two added here, beside the demo's own org map.
    assert!(
        names.contains(&"Grace Hopper") && names.contains(&"Ada"),
        "{seen}"
    );
    assert_eq!(
        seen["data"]["partner"]["contacts"]["totalCount"],
        names.len()
    );

    let delete = "mutation($i: DeleteContactInput!) { deleteContact(input: $i) { deletedContactId userErrors { code } } }";
    let deleted = app
        .gql_as(
            ALICE_NORTHWIND,
            delete,
            json!({ "i": { "id": contact_id } }),
        )
        .await;
    assert_eq!(
        deleted["data"]["deleteContact"]["deletedContactId"],
        contact_id.as_str()
    );
}
