use chrono::Utc;
use entity::enums::Role;
use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::common::*;

fn user_row(email: &str, role: Role, partner_id: Option<i64>) -> user::ActiveModel {
    user::ActiveModel {
        email: Set(email.into()),
        name: Set("Test".into()),
        role: Set(role),
        partner_id: Set(partner_id),
        password_hash: Set("x".into()),
        is_active: Set(true),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_schema_enforces_tenancy_constraints() {
    let app = TestApp::demo().await;
    // A partner user must belong to an existing organisation.
    assert!(user_row("x1@example.com", Role::Partner, None)
        .insert(&app.db)
        .await
        .is_err());
    assert!(user_row("x2@example.com", Role::Partner, Some(999_999))
        .insert(&app.db)
        .await
        .is_err());
    // Vendor staff belong to none.
    assert!(user_row("x3@example.com", Role::ChannelManager, Some(1))
        .insert(&app.db)
        .await
        .is_err());
    // Emails are unique.
    assert!(user_row(MANAGER, Role::ChannelManager, None)
        .insert(&app.db)
        .await
        .is_err());
    assert!(user_row("x4@example.com", Role::DirectRep, None)
        .insert(&app.db)
        .await
        .is_ok());
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let app = TestApp::demo().await;
    partnergraph::db::migrate(&app.db)
        .await
        .expect("second run is a no-op");
    assert!(
        !partnergraph::demo::seed(&app.db).await.unwrap(),
        "demo seeds only an empty database"
    );
}

#[tokio::test]
async fn tests_use_the_database_they_were_asked_for() {
    use sea_orm::{ConnectionTrait, DbBackend};
    let app = TestApp::new().await;
    let expected = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => DbBackend::Postgres,
        _ => DbBackend::Sqlite,
    };
    assert_eq!(app.db.get_database_backend(), expected);
}
