//! Training: certifications are awarded when their required courses are complete.

use serde_json::json;

use crate::common::*;

const RECORD: &str = "mutation($i: RecordCourseCompletionInput!) { recordCourseCompletion(input: $i) {
  certifications { status awardedAt expiresAt program { name validityMonths } progress { completedCourses requiredCourses } }
  userErrors { field code } } }";

async fn course(app: &TestApp, title: &str) -> String {
    id_in(
        app,
        "{ courses { edges { node { id title } } } }",
        "courses",
        "title",
        title,
    )
    .await
}

#[tokio::test]
async fn the_demo_has_courses_programs_and_certifications_in_each_state() {
    let app = TestApp::demo().await;
    let query = "{ certifications(first: 20) { edges { node { status user { email } program { name requiredCourses { title } } } } } }";
    let all = app.gql_as(MANAGER, query, json!({})).await;
    let rows: Vec<(String, String, String)> = all["data"]["certifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["user"]["email"].as_str().unwrap().into(),
                n["program"]["name"].as_str().unwrap().into(),
                n["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        rows.contains(&(
            ALICE_NORTHWIND.into(),
            "Certified Sales Professional".into(),
            "ACTIVE".into()
        )),
        "{rows:?}"
    );
    assert!(rows.contains(&(
        DAVE_SUMMIT.into(),
        "Certified Technical Specialist".into(),
        "IN_PROGRESS".into()
    )));
    assert!(rows.contains(&(
        BOB_TIERTWO.into(),
        "Certified Sales Professional".into(),
        "IN_PROGRESS".into()
    )));

    // Partners see only their own scope's certifications.
    let by_alice = app.gql_as(ALICE_NORTHWIND, query, json!({})).await;
    let emails: Vec<_> = by_alice["data"]["certifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["user"]["email"].as_str().unwrap())
        .collect();
    assert!(
        !emails.is_empty() && emails.iter().all(|e| *e == ALICE_NORTHWIND),
        "{emails:?}"
    );
}

#[tokio::test]
async fn completing_the_last_required_course_awards_the_certification() {
    let app = TestApp::demo().await;
    let bob = user_id(&app, BOB_TIERTWO).await;
    let selling = course(&app, "Selling the Platform").await;
    let result = app
        .gql_as(
            BOB_TIERTWO,
            RECORD,
            json!({ "i": { "userId": bob, "courseId": selling } }),
        )
        .await;
    let certification = &result["data"]["recordCourseCompletion"]["certifications"][0];
    assert_eq!(certification["status"], "ACTIVE", "{result}");
    assert_eq!(
        certification["program"]["name"],
        "Certified Sales Professional"
    );
    assert_eq!(
        certification["progress"],
        json!({ "completedCourses": 2, "requiredCourses": 2 })
    );
    let awarded =
        chrono::DateTime::parse_from_rfc3339(certification["awardedAt"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(certification["expiresAt"].as_str().unwrap()).unwrap();
    let months = (expires - awarded).num_days();
    assert!(
        (365..=366).contains(&months),
        "valid for 12 months: {months} days"
    );

    let mine = app
        .gql_as(
            BOB_TIERTWO,
            "{ me { certifications { edges { node { status program { name } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["me"]["certifications"]["edges"][0]["node"]["status"],
        "ACTIVE"
    );
}

#[tokio::test]
async fn a_partial_set_of_courses_leaves_the_certification_in_progress() {
    let app = TestApp::demo().await;
    let dave = user_id(&app, DAVE_SUMMIT).await;
    let security = course(&app, "Security and Compliance").await;
    let result = app
        .gql_as(
            MANAGER,
            RECORD,
            json!({ "i": { "userId": dave, "courseId": security } }),
        )
        .await;
    let certification = &result["data"]["recordCourseCompletion"]["certifications"][0];
    // Dave already had Fundamentals and Deployment: Security completes the technical track.
    assert_eq!(certification["status"], "ACTIVE", "{result}");
    assert_eq!(certification["program"]["validityMonths"], 24);

    let new_course = "mutation($i: CreateCourseInput!) { createCourse(input: $i) { course { id } userErrors { field code } } }";
    let c1 = app
        .gql_as(
            MANAGER,
            new_course,
            json!({ "i": { "title": "Advanced Networking" } }),
        )
        .await["data"]["createCourse"]["course"]["id"]
        .clone();
    let c2 = app
        .gql_as(
            MANAGER,
            new_course,
            json!({ "i": { "title": "Cloud Migrations" } }),
        )
        .await["data"]["createCourse"]["course"]["id"]
        .clone();
    let dup = app
        .gql_as(
            MANAGER,
            new_course,
            json!({ "i": { "title": "Cloud Migrations" } }),
        )
        .await;
    assert_eq!(error_codes(&dup["data"]["createCourse"]), ["TAKEN"]);
    let program = "mutation($i: CreateCertificationProgramInput!) { createCertificationProgram(input: $i) { certificationProgram { name } userErrors { field code } } }";
    let bad = app.gql_as(MANAGER, program, json!({ "i": { "name": "Cloud Expert", "validityMonths": 0, "requiredCourseIds": [] } })).await;
    assert_eq!(
        error_fields(&bad["data"]["createCertificationProgram"]),
        ["validityMonths", "requiredCourseIds"]
    );
    let made = app.gql_as(MANAGER, program, json!({ "i": { "name": "Cloud Expert", "validityMonths": 12, "requiredCourseIds": [c1, c2] } })).await;
    assert_eq!(
        made["data"]["createCertificationProgram"]["userErrors"],
        json!([]),
        "{made}"
    );

    let partial = app
        .gql_as(
            MANAGER,
            RECORD,
            json!({ "i": { "userId": dave, "courseId": c1 } }),
        )
        .await;
    let certification = &partial["data"]["recordCourseCompletion"]["certifications"][0];
    assert_eq!(certification["status"], "IN_PROGRESS");
    assert_eq!(
        certification["progress"],
        json!({ "completedCourses": 1, "requiredCourses": 2 })
    );
    assert!(certification["awardedAt"].is_null());
}

#[tokio::test]
async fn completions_are_recorded_only_by_those_allowed() {
    let app = TestApp::demo().await;
    let bob = user_id(&app, BOB_TIERTWO).await;
    let alice = user_id(&app, ALICE_NORTHWIND).await;
    let selling = course(&app, "Selling the Platform").await;

    let hidden = app
        .gql_as(
            ALICE_NORTHWIND,
            RECORD,
            json!({ "i": { "userId": bob, "courseId": selling } }),
        )
        .await;
    assert_eq!(
        error_codes(&hidden["data"]["recordCourseCompletion"]),
        ["NOT_FOUND"],
        "bob is not visible to alice"
    );
    // Dave sees bob (tier two) but is not bob's organisation admin.
    let not_admin = app
        .gql_as(
            DAVE_SUMMIT,
            RECORD,
            json!({ "i": { "userId": bob, "courseId": selling } }),
        )
        .await;
    assert_eq!(error_code(&not_admin).as_deref(), Some("FORBIDDEN"));
    let future = app.gql_as(ALICE_NORTHWIND, RECORD, json!({ "i": { "userId": alice, "courseId": selling, "completedAt": "2999-01-01T00:00:00Z" } })).await;
    assert_eq!(
        error_fields(&future["data"]["recordCourseCompletion"]),
        ["completedAt"]
    );
    let unknown = app
        .gql_as(
            ALICE_NORTHWIND,
            RECORD,
            json!({ "i": { "userId": alice, "courseId": "Q291cnNlOjk5OTk" } }),
        )
        .await;
    assert_eq!(
        error_fields(&unknown["data"]["recordCourseCompletion"]),
        ["courseId"]
    );
    let forbidden = app
        .gql_as(
            ALICE_NORTHWIND,
            "mutation { createCourse(input: { title: \"X\" }) { course { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&forbidden).as_deref(), Some("FORBIDDEN"));
}
