/// See `api/Cargo.toml`: mimalloc keeps allocation cheap and the heap compact under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    partnergraph::cli::run().await
}
