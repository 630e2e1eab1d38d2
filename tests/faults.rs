//! Faults a server survives without being restarted: its PostgreSQL stopped and started
//! again under load. The test runs a PostgreSQL of its own (the Debian packages' binaries,
//! as `.ci/run` installs them) so that stopping it disturbs no other test; without them, or
//! without root to run it as `postgres`, it is skipped with the reason printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{ALICE_NORTHWIND, DEMO_PASSWORD, LOGIN};
use crate::processes::{gql_at, Server};

fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

/// A PostgreSQL cluster in a directory of its own, run as the `postgres` user.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(bin: &Path, tool: &str, args: &[&str]) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(tool))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Cluster {
    fn create() -> Option<Cluster> {
        let bin = postgres_bin()?;
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("chown")
            .args(["postgres:", &dir.path().display().to_string()])
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        let data = dir.path().join("data");
        if !as_postgres(
            &bin,
            "initdb",
            &["-D", data.to_str()?, "-A", "trust", "-U", "postgres"],
        ) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let cluster = Cluster { bin, dir, port };
        cluster.start().then_some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        as_postgres(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        )
    }

    fn stop(&self) -> bool {
        as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        )
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "stop"],
        );
    }
}

async fn status_of(base: &str, path: &str) -> Option<(u16, Option<String>)> {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Some((response.status().as_u16(), retry))
}

#[tokio::test]
async fn a_postgresql_restart_under_load_is_ridden_out_without_restarting_the_server() {
    if std::env::var("TEST_DATABASE_URL")
        .unwrap_or_default()
        .is_empty()
    {
        eprintln!("skipped on SQLite: this is PostgreSQL's restart");
        return;
    }
    let Some(cluster) = Cluster::create() else {
        eprintln!("skipped: no PostgreSQL binaries under /usr/lib/postgresql, or not root to run them as postgres");
        return;
    };
    let server = Server::start_on(&cluster.url(), true).await;
    let token = gql_at(
        &server.base,
        None,
        LOGIN,
        json!({ "i": { "email": ALICE_NORTHWIND, "password": DEMO_PASSWORD } }),
    )
    .await
    .expect("an answer")["data"]["login"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let me = "{ me { id } }";
    assert!(gql_at(&server.base, Some(&token), me, json!({}))
        .await
        .is_some_and(|a| a["data"]["me"]["id"].is_string()));

    // Load throughout: every request is answered, 200 or 503, never anything else.
    let (stop_load, mut stopped) = tokio::sync::watch::channel(false);
    let load = {
        let (base, token) = (server.base.clone(), token.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            while !*stopped.borrow_and_update() {
                let answer = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": "{ me { id } }" }))
                    .timeout(Duration::from_secs(40))
                    .send()
                    .await;
                statuses.push(answer.map(|r| r.status().as_u16()).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(cluster.stop(), "PostgreSQL stopped");
    // While it is down: not ready, and requests are answered 503 with Retry-After.
    let (ready, retry) = status_of(&server.base, "/readyz")
        .await
        .expect("the server answers");
    assert_eq!(ready, 503);
    assert!(retry.is_some(), "Retry-After on /readyz");
    let refused = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&token)
        .json(&json!({ "query": me }))
        .timeout(Duration::from_secs(40))
        .send()
        .await
        .expect("the server answers while its database is down");
    assert_eq!(refused.status().as_u16(), 503);
    assert!(refused.headers().contains_key("retry-after"));

    assert!(cluster.start(), "PostgreSQL started again");
    // Back without restarting the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = status_of(&server.base, "/readyz").await.map(|(s, _)| s);
        let answered = gql_at(&server.base, Some(&token), me, json!({})).await;
        if ready == Some(200)
            && answered
                .as_ref()
                .is_some_and(|a| a["data"]["me"]["id"].is_string())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not recover: {ready:?} {answered:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_load.send(true).expect("the load runs");
    let statuses = load.await.expect("the load finished");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&200) && statuses.contains(&503),
        "{statuses:?}"
    );
}

/// Sets the SQLite writer connection's file size limit (pages): its own setting, so it is
/// set inside a write transaction, which runs on that connection.
async fn limit_pages(app: &crate::common::TestApp, pages: Option<i64>) {
    use sea_orm::ConnectionTrait;
    let txn = partnergraph::db::begin_write(&app.state.db)
        .await
        .expect("a write turn");
    let pages = match pages {
        Some(pages) => pages,
        None => 1_073_741_823,
    };
    txn.execute_unprepared(&format!("PRAGMA max_page_count = {pages}"))
        .await
        .expect("limited");
    txn.commit().await.expect("committed");
}

#[tokio::test]
async fn a_full_sqlite_database_refuses_writes_whole_and_opens_afterwards() {
    use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};
    let app = crate::common::TestApp::demo().await;
    if app.db.get_database_backend() != DbBackend::Sqlite {
        eprintln!("skipped on PostgreSQL: this is SQLite's full disk");
        return;
    }
    let pages = app
        .db
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA page_count",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    // No room to grow: as if the disk were full.
    limit_pages(&app, Some(pages)).await;
    let alice = app.login(ALICE_NORTHWIND).await;
    let product = crate::common::product_id(&app, "PartnerGraph Cloud").await;
    let register = "mutation($i: RegisterDealInput!){ registerDeal(input: $i){ dealRegistration { id } userErrors { code } } }";
    let before = entity::deal_registration::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let mut refusal = None;
    let mut written = 0;
    for i in 0..200 {
        let answer = app
            .gql(
                Some(&alice),
                register,
                json!({ "i": { "customerName": format!("Full Disk {i}"), "productIds": [product],
                "description": "x".repeat(4_000), "expectedCloseDate": "2027-06-30",
                "estimatedValue": { "amount": "10", "currency": "USD" } } }),
            )
            .await;
        if answer["data"]["registerDeal"]["dealRegistration"]["id"].is_string() {
            written += 1;
        } else {
            refusal = Some(answer);
            break;
        }
    }
    let refusal = refusal.expect("the limit was reached");
    assert_eq!(
        crate::common::error_code(&refusal).as_deref(),
        Some("INSUFFICIENT_STORAGE"),
        "{refusal}"
    );
    assert!(
        refusal["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no space left"),
        "{refusal}"
    );
    // Nothing of the refused registration was kept.
    let after = entity::deal_registration::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before + written);
    // Room again: writes go on, and the file checks whole.
    limit_pages(&app, None).await;
    let again = app
        .gql(Some(&alice), register, json!({ "i": { "customerName": "After The Disk", "productIds": [product],
            "expectedCloseDate": "2027-06-30", "estimatedValue": { "amount": "10", "currency": "USD" } } }))
        .await;
    assert!(
        again["data"]["registerDeal"]["dealRegistration"]["id"].is_string(),
        "{again}"
    );
    let check = app
        .db
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(check, "ok");
}
