use std::path::PathBuf;

/// `schema.graphql` at the repository root is generated from the code and must not go stale.
#[test]
fn committed_schema_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let generated = partnergraph::schema::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write schema.graphql");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema.graphql is stale. Regenerate it with:\n  UPDATE_SCHEMA=1 cargo test -p partnergraph-tests schema\n(or `cargo run -- schema > schema.graphql`)"
    );
}
