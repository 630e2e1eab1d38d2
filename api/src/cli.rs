//! `partnergraph serve | migrate | seed | user create | schema`. Every flag has an environment
//! variable of the same meaning.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use entity::enums::Role;
use sea_orm::DatabaseConnection;

use crate::config::{
    AuthConfig, HttpConfig, Introspection, Limits, RateLimits, WebhookConfig, DEFAULT_BIND,
    DEFAULT_DATABASE_URL,
};
use crate::relay::local_id;
use crate::users::service::{create_user, NewUser};
use crate::{db, demo, http, telemetry};

#[derive(Parser)]
#[command(
    name = "partnergraph",
    version,
    about = "GraphQL API backend for partner relationship management"
)]
struct Cli {
    /// `sqlite://FILE?mode=rwc` (created if missing) or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "PARTNERGRAPH_LOG_JSON", global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API.
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Generate a realistic program at scale (for benchmarks) into an empty database.
    Seed(SeedArgs),
    /// Copy a SQLite database to a new file while it serves (PostgreSQL: use pg_dump).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Args)]
struct SeedArgs {
    /// Generated partner organisations (on top of the demo program's).
    #[arg(long, default_value_t = 2_000)]
    partners: usize,
    /// Generated deal registrations.
    #[arg(long, default_value_t = 20_000)]
    registrations: usize,
    /// Generated content items.
    #[arg(long, default_value_t = 300)]
    contents: usize,
    /// The random seed: the same value gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write what was generated, as JSON, to this file (the benchmark reads it).
    #[arg(long)]
    report: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PARTNERGRAPH_BIND", default_value = DEFAULT_BIND)]
    bind: SocketAddr,
    /// Seed a demo program into an empty database and print its logins.
    #[arg(long, env = "PARTNERGRAPH_DEMO")]
    demo: bool,
    /// Access-token lifetime in seconds.
    #[arg(long, env = "PARTNERGRAPH_ACCESS_TOKEN_TTL", default_value_t = 900)]
    access_token_ttl: u64,
    /// Directory for uploaded files (shared storage when running several replicas).
    #[arg(
        long,
        env = "PARTNERGRAPH_FILES_DIR",
        default_value = "partnergraph-files"
    )]
    files_dir: std::path::PathBuf,
    /// How long (ms) nested-field loaders wait to batch keys into one query.
    #[arg(long, env = "PARTNERGRAPH_BATCH_WINDOW_MS", default_value_t = 1)]
    batch_window_ms: u64,
    /// Refresh-token lifetime in seconds.
    #[arg(long, env = "PARTNERGRAPH_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    refresh_token_ttl: u64,
    /// Seconds a request may run before it is cancelled (answered 503 REQUEST_TIMEOUT).
    #[arg(long, env = "PARTNERGRAPH_REQUEST_TIMEOUT", default_value_t = 30)]
    request_timeout: u64,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "PARTNERGRAPH_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    shutdown_timeout: u64,
    /// Days the audit log keeps an entry (an hourly job removes older ones).
    #[arg(long, env = "PARTNERGRAPH_AUDIT_RETENTION_DAYS", default_value_t = 365)]
    audit_retention_days: u64,
    /// Who may introspect the schema: on, authenticated (signed-in callers) or off.
    #[arg(long, env = "PARTNERGRAPH_INTROSPECTION", value_enum, default_value_t = Introspection::Authenticated)]
    introspection: Introspection,
    /// Origins whose pages may call the API (CORS), exact, comma-separated or repeated.
    #[arg(
        long = "cors-origin",
        env = "PARTNERGRAPH_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Proxies (CIDR ranges or addresses, comma-separated) whose X-Forwarded-For and
    /// Forwarded headers name the client.
    #[arg(long, env = "PARTNERGRAPH_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::http::client::parse_proxy)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Cost an API key may spend per minute (0: no limit).
    #[arg(long, env = "PARTNERGRAPH_RATE_LIMIT_KEY", default_value_t = RateLimits::default().per_key)]
    rate_limit_key: u64,
    /// Cost a signed-in user may spend per minute (0: no limit).
    #[arg(long, env = "PARTNERGRAPH_RATE_LIMIT_USER", default_value_t = RateLimits::default().per_user)]
    rate_limit_user: u64,
    /// Cost one client address may spend per minute without signing in (0: no limit).
    #[arg(long, env = "PARTNERGRAPH_RATE_LIMIT_ADDRESS", default_value_t = RateLimits::default().per_address)]
    rate_limit_address: u64,
    /// Deliver webhooks to private, loopback and link-local addresses (`--demo` implies it).
    #[arg(long, env = "PARTNERGRAPH_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        /// PARTNER, CHANNEL_MANAGER or DIRECT_REP.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The partner organisation (global ID or numeric id) of a PARTNER user.
        #[arg(long)]
        partner: Option<String>,
        /// Display name; defaults to the email's local part.
        #[arg(long)]
        name: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    match text.to_ascii_uppercase().replace('-', "_").as_str() {
        "PARTNER" => Ok(Role::Partner),
        "CHANNEL_MANAGER" => Ok(Role::ChannelManager),
        "DIRECT_REP" => Ok(Role::DirectRep),
        _ => Err("expected PARTNER, CHANNEL_MANAGER or DIRECT_REP".into()),
    }
}

fn parse_partner_ref(text: &str) -> Option<i64> {
    text.parse().ok().or_else(|| {
        local_id(
            &async_graphql::ID(text.to_owned()),
            crate::partners::NODE_KIND,
        )
    })
}

/// The JWT secret comes only from the environment: flags show up in process listings.
fn auth_config(args: &ServeArgs) -> Result<AuthConfig, String> {
    let jwt_secret = std::env::var("PARTNERGRAPH_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(secret) = &jwt_secret {
        if secret.len() < 32 {
            return Err("PARTNERGRAPH_JWT_SECRET must be at least 32 characters".into());
        }
    }
    Ok(AuthConfig {
        jwt_secret,
        access_token_ttl: Duration::from_secs(args.access_token_ttl),
        refresh_token_ttl: Duration::from_secs(args.refresh_token_ttl),
        ..AuthConfig::default()
    })
}

pub async fn run() -> ExitCode {
    execute(Cli::parse()).await
}

/// `run` with the arguments given (the first is the program's name), not the process's:
/// the test suite starts server processes of its own this way.
pub async fn run_with(args: Vec<String>) -> ExitCode {
    match Cli::try_parse_from(args) {
        Ok(cli) => execute(cli).await,
        Err(error) => {
            let _ = error.print();
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> ExitCode {
    telemetry::init(cli.log_json);
    let result = match cli.command {
        Command::Schema => {
            say(&crate::schema::sdl());
            Ok(())
        }
        Command::Migrate => open_database(&cli.database_url).await.map(|_| {
            tracing::info!("database is up to date");
        }),
        Command::Serve(args) => serve(&cli.database_url, args).await,
        Command::Seed(args) => seed_command(&cli.database_url, args).await,
        Command::Backup { to } => backup_command(&cli.database_url, &to).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    role,
                    partner,
                    name,
                },
        } => create_user_command(&cli.database_url, email, role, partner, name).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn seed_command(url: &str, args: SeedArgs) -> Result<(), String> {
    let connection = open_database(url).await?;
    let options = crate::seed::SeedOptions {
        partners: args.partners,
        registrations: args.registrations,
        contents: args.contents,
        seed: args.seed,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let started = std::time::Instant::now();
    let report = crate::seed::seed(&connection, &options)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.report {
        let json = serde_json::json!({
            "partners": report.partners,
            "registrations": report.registrations,
            "busiestPartnerUser": report.busiest_partner_user,
            "busiestPartnerId": report.busiest_partner_id,
            "typicalPartnerUser": report.typical_partner_user,
            "typicalPartnerId": report.typical_partner_id,
            "rebateProgramId": report.rebate_program_id,
            "rebatePartnerId": report.rebate_partner_id,
            "contestedCustomer": { "name": report.contested_customer.0, "domain": report.contested_customer.1 },
            "sampleCustomers": report.sample_customers.iter()
                .map(|(name, domain)| serde_json::json!({ "name": name, "domain": domain }))
                .collect::<Vec<_>>(),
            "productIds": report.product_ids,
        });
        std::fs::write(path, json.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let summary = format!(
        "Seeded {} partners, {} users, {} customers, {} registrations ({} rows) in {:.1} s.\n\
         Logins (password for all: {}):\n  busiest partner  {}\n  typical partner  {}\n  \
         the demo logins, e.g. manager@vendor.example\n",
        report.partners,
        report.users,
        report.customers,
        report.registrations,
        report.rows,
        started.elapsed().as_secs_f64(),
        demo::DEMO_PASSWORD,
        report.busiest_partner_user,
        report.typical_partner_user,
    );
    say(&summary);
    Ok(())
}

/// Writes `text` to standard output. Not `print!`: that panics when the reader has gone
/// (`partnergraph schema | head`), and a reader that stops early is no error of ours.
pub fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

async fn backup_command(url: &str, to: &std::path::Path) -> Result<(), String> {
    let connection = db::connect(url, None)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", redact(url)))?;
    db::backup_sqlite(&connection, to).await?;
    tracing::info!(file = %to.display(), "backup written");
    Ok(())
}

async fn open_database(url: &str) -> Result<DatabaseConnection, String> {
    let connection = db::connect(url, None)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", redact(url)))?;
    db::migrate(&connection)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    Ok(connection)
}

/// Hides the password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn serve(database_url: &str, args: ServeArgs) -> Result<(), String> {
    let auth = auth_config(&args)?;
    let connection = open_database(database_url).await?;
    if args.demo {
        demo::seed_and_report(&connection)
            .await
            .map_err(|e| e.to_string())?;
    }
    crate::auth::password::warm_up();
    crate::db::spawn_wal_checkpoints(connection.clone(), Duration::from_millis(100));
    let files = crate::content::FileStore::new(args.files_dir.clone());
    let limits = Limits {
        batch_window: Duration::from_millis(args.batch_window_ms),
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        ..Limits::default()
    };
    let http_config = HttpConfig {
        introspection: args.introspection,
        cors_origins: args
            .cors_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
        trusted_proxies: args.trusted_proxies.clone(),
        rate_limits: RateLimits {
            per_key: args.rate_limit_key,
            per_user: args.rate_limit_user,
            per_address: args.rate_limit_address,
            ..RateLimits::default()
        },
        webhooks: WebhookConfig {
            allow_private: args.webhook_allow_private || args.demo,
            ..WebhookConfig::default()
        },
    };
    let state = crate::build_state(connection, auth, limits, http_config, files)
        .await
        .map_err(|e| e.to_string())?;
    // Every replica runs it; each expiry is a compare-and-swap, so none is done twice.
    crate::deals::service::spawn_expiry_job(state.db.clone(), Duration::from_secs(60));
    // Every replica runs them; the refresh and the day's snapshot are each claimed by one
    // compare-and-set.
    crate::health::spawn_jobs(
        state.db.clone(),
        Duration::from_secs(60),
        Duration::from_secs(3_600),
    );
    // Every replica runs it; each lead moves by a compare-and-set on its version.
    crate::leads::respond::spawn_lapse_job(state.db.clone(), Duration::from_secs(60));
    // Every replica runs it; deleting what is past retention is the same done twice.
    crate::audit::spawn_retention_job(
        state.db.clone(),
        Duration::from_secs(args.audit_retention_days.max(1) * 86_400),
        Duration::from_secs(3_600),
    );
    crate::integrations::spawn_workers(&state).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("PartnerGraph listening on http://{local}/graphql");
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        http::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    });
    // In-flight requests get `--shutdown-timeout` to finish; then the process exits anyway.
    let drain = Duration::from_secs(args.shutdown_timeout);
    let deadline = async move {
        let _ = stopped.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        served = server => served.map_err(|e| e.to_string()),
        () = deadline => {
            tracing::warn!(seconds = drain.as_secs(), "requests still running at the shutdown timeout; exiting");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn create_user_command(
    database_url: &str,
    email: String,
    role: Role,
    partner: Option<String>,
    name: Option<String>,
) -> Result<(), String> {
    let partner_id = match partner.as_deref() {
        None => None,
        Some(text) => Some(
            parse_partner_ref(text)
                .ok_or_else(|| format!("--partner {text:?} is not a partner id"))?,
        ),
    };
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let connection = open_database(database_url).await?;
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_owned());
    let new = NewUser {
        email,
        name,
        role,
        partner_id,
        password,
        is_org_admin: false,
    };
    match create_user(&connection, new)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(user) => {
            say(&format!(
                "created user {} ({})\n",
                user.email,
                crate::relay::global_id(crate::users::NODE_KIND, user.id).0
            ));
            Ok(())
        }
        Err(errors) => Err(errors
            .iter()
            .map(|e| format!("{}: {}", e.field.as_deref().unwrap_or("input"), e.message))
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_in_either_spelling() {
        assert_eq!(parse_role("channel-manager"), Ok(Role::ChannelManager));
        assert_eq!(parse_role("DIRECT_REP"), Ok(Role::DirectRep));
        assert!(parse_role("admin").is_err());
    }

    #[test]
    fn serve_takes_lists_of_origins_and_proxies() {
        let cli = Cli::try_parse_from([
            "partnergraph",
            "serve",
            "--cors-origin",
            "https://a.example,https://b.example",
            "--trusted-proxies",
            "10.0.0.0/8, 127.0.0.1",
            "--introspection",
            "off",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.cors_origins.len(), 2);
        assert_eq!(args.trusted_proxies.len(), 2);
        assert_eq!(args.introspection, Introspection::Off);
        assert!(Cli::try_parse_from(["partnergraph", "serve", "--trusted-proxies", "x"]).is_err());
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact("postgres://pg:secret@localhost/db"),
            "postgres://pg:***@localhost/db"
        );
        assert_eq!(redact("sqlite://x.db?mode=rwc"), "sqlite://x.db?mode=rwc");
    }
}
