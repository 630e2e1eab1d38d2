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

/// One span per GraphQL operation, named after it, opened by the HTTP handler. Not an
/// async-graphql extension: with any extension registered, async-graphql routes every field
/// it resolves through the extension chain (a registry lookup and a formatted type name per
/// field, per list item), a measurable share of a fifty-row page's CPU; and its own
/// `Tracing` extension opens a span per field, thousands per request, for detail nobody reads.
pub fn operation_span(operation_name: Option<&str>) -> tracing::Span {
    tracing::info_span!("graphql", operation = operation_name.unwrap_or(""))
}
