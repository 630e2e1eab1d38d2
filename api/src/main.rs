#[tokio::main]
async fn main() -> std::process::ExitCode {
    partnergraph::cli::run().await
}
