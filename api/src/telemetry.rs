use tracing_subscriber::EnvFilter;

/// Logs to stderr; `PARTNERGRAPH_LOG` (or `RUST_LOG`) filters, `json` switches the format.
pub fn init(json: bool) {
    let filter = std::env::var("PARTNERGRAPH_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
