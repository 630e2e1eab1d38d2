//! Runtime configuration. Every value comes from a CLI flag or the environment variable of
//! the same meaning (see `cli.rs`); defaults make `partnergraph serve` work on a fresh machine.

use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://partnergraph.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// HMAC secret for access tokens. `None`: generated once and kept in the database, so
    /// every replica sharing that database signs and verifies with the same key.
    pub jwt_secret: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub issuer: String,
    pub audience: String,
    pub throttle: ThrottleConfig,
}

#[derive(Clone, Debug)]
pub struct ThrottleConfig {
    pub window: Duration,
    /// Failed logins for one account within the window before further tries are refused.
    pub max_failures_per_account: u64,
    /// Failed logins from one client address within the window.
    pub max_failures_per_address: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            issuer: "partnergraph".into(),
            audience: "partnergraph-api".into(),
            throttle: ThrottleConfig::default(),
        }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            window: Duration::from_secs(15 * 60),
            max_failures_per_account: 5,
            max_failures_per_address: 50,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_batch: usize,
    pub max_body_bytes: usize,
    /// A multipart request (file uploads) may be this large.
    pub max_upload_bytes: usize,
    /// DataLoader batching window: keys requested within it load in one query.
    pub batch_window: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        // The standard introspection query needs depth 13 and complexity ~230.
        Limits {
            max_depth: 16,
            max_complexity: 1000,
            max_batch: 10,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 25 * 1024 * 1024,
            batch_window: std::time::Duration::from_millis(1),
        }
    }
}
