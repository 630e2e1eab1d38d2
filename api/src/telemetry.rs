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

/// One span per GraphQL operation, named after it. async-graphql's own `Tracing` extension
/// opens a span for every field resolved: on a fifty-row list that is thousands of spans per
/// request, a measurable share of the server's CPU under load, for detail nobody reads.
pub struct OperationSpans;

impl async_graphql::extensions::ExtensionFactory for OperationSpans {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(OperationSpans)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for OperationSpans {
    async fn execute(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: async_graphql::extensions::NextExecute<'_>,
    ) -> async_graphql::Response {
        use tracing::Instrument;
        let span = tracing::info_span!("graphql", operation = operation_name.unwrap_or(""));
        next.run(ctx, operation_name).instrument(span).await
    }
}
