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
    /// Failed logins for one account from one client address before that client waits.
    pub free_failures_per_client: u64,
    /// The first wait; it doubles with each further failure, up to `window`.
    pub first_delay: Duration,
    /// Failed logins for one account from every address together within the window, before
    /// further tries are refused: far above what one client gets to try.
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
            free_failures_per_client: 5,
            first_delay: Duration::from_secs(15),
            max_failures_per_account: 100,
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
    /// Brackets, braces and parentheses nested in a document's text (checked before parsing).
    pub max_nesting: usize,
    /// Tokens in a document's text (checked before parsing).
    pub max_tokens: usize,
    /// Selections a document expands to once its fragments are spread in place.
    pub max_selections: u64,
    /// A request still running after this long is cancelled and answered `503`.
    pub request_timeout: Duration,
}

impl Limits {
    pub fn scan(&self) -> crate::http::scan::ScanLimits {
        crate::http::scan::ScanLimits {
            max_nesting: self.max_nesting,
            max_tokens: self.max_tokens,
        }
    }

    pub fn expansion(&self) -> crate::http::admission::ExpansionLimits {
        crate::http::admission::ExpansionLimits {
            max_selections: self.max_selections,
            max_depth: crate::schema::MAX_RECURSIVE_DEPTH,
        }
    }
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
            // Selections nest at most 16 deep (`max_depth`); values and arguments add a few.
            max_nesting: 64,
            // Apollo Router's default; the standard introspection query is about 300.
            max_tokens: 15_000,
            // A document within the complexity limit expands to at most about 1,000.
            max_selections: 2_000,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Who may introspect the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Introspection {
    On,
    /// Signed-in callers only (tools and codegen run with a token).
    #[default]
    Authenticated,
    Off,
}

/// How the HTTP front door treats browsers, proxies and anonymous callers.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    pub introspection: Introspection,
    /// Exact origins (`https://portal.example.com`) whose pages may call the API.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` entries are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Request budgets per API key, user and client address.
    pub rate_limits: RateLimits,
    /// Where and how webhooks are delivered.
    pub webhooks: WebhookConfig,
}

/// Cost a caller may spend per window (a request costs 1, plus 1 for every 100 fields it
/// selects): an API key, a signed-in user, or an anonymous client address. Zero turns a
/// limit off. Every replica counts locally and adds its counts to the
/// database's shared window every second, so the limits hold across replicas to within a
/// second's traffic.
#[derive(Clone, Debug)]
pub struct RateLimits {
    pub per_key: u64,
    pub per_user: u64,
    pub per_address: u64,
    pub window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_key: 1_200,
            per_user: 1_200,
            per_address: 6_000,
            window: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Deliver to private, loopback and link-local addresses (the demo and tests do).
    pub allow_private: bool,
    /// An attempt that has not answered by then failed.
    pub attempt_timeout: Duration,
    /// The wait before the first retry; it doubles (with jitter) up to an hour.
    pub first_retry: Duration,
    /// A delivery still failing this long after its event is given up, and its endpoint
    /// disabled.
    pub give_up_after: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_private: false,
            attempt_timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(5),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}
