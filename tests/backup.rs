//! `partnergraph backup`: a consistent copy of a SQLite database taken while it serves, which
//! opens and reads as the original did.

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_backup_taken_while_writing_restores_and_reads() {
    let app = TestApp::demo().await;
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("backup.db");
    if app.db.get_database_backend() != DbBackend::Sqlite {
        let refused = partnergraph::db::backup_sqlite(&app.db, &file).await;
        assert!(refused.unwrap_err().contains("pg_dump"));
        eprintln!("skipped on PostgreSQL: it is backed up with pg_dump (README)");
        return;
    }
    let alice = app.login(ALICE_NORTHWIND).await;
    let product = product_id(&app, "PartnerGraph Cloud").await;
    // Registrations go on while the copy is taken.
    let writes = async {
        for i in 0..10 {
            let done = app
                .gql(
                    Some(&alice),
                    "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ userErrors { code } } }",
                    json!({ "i": { "customerName": format!("Backup Load {i}"), "productIds": [product],
                                   "expectedCloseDate": "2027-06-30",
                                   "estimatedValue": { "amount": "10", "currency": "USD" } } }),
                )
                .await;
            assert_eq!(
                done["data"]["registerDeal"]["userErrors"],
                json!([]),
                "{done}"
            );
        }
    };
    let (copied, ()) = tokio::join!(partnergraph::db::backup_sqlite(&app.db, &file), writes);
    copied.expect("backed up");
    assert!(partnergraph::db::backup_sqlite(&app.db, &file)
        .await
        .unwrap_err()
        .contains("exists"));

    let restored = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .expect("the backup opens");
    let check = restored
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .expect("checked")
        .expect("a row");
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    let partners = entity::partner::Entity::find()
        .count(&restored)
        .await
        .unwrap();
    assert_eq!(
        partners,
        entity::partner::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    );
    let copied = entity::deal_registration::Entity::find()
        .count(&restored)
        .await
        .unwrap();
    let live = entity::deal_registration::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    // A snapshot: the registrations committed before it, none half-written.
    assert!(copied <= live && copied + 10 >= live, "{copied} of {live}");
    let migrations = restored
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(
        migrations as usize,
        <migration::Migrator as migration::MigratorTrait>::migrations().len()
    );
}
