//! Authentication (who is calling) and the request's `Viewer`.
//!
//! The HTTP layer decodes the bearer token once per request into a `Viewer`; a present but
//! invalid token fails the whole request with `UNAUTHENTICATED`, it never falls back to
//! anonymous. Role gates are `RoleGuard`s; row-level rules live in each domain's `policy`.

pub mod callers;
mod graphql;
mod guard;
pub mod jwt;
pub mod password;
pub mod service;
mod throttle;
pub mod tokens;

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions};
pub use entity::enums::Role;
pub use graphql::{AuthMutation, AuthQuery};
pub use guard::RoleGuard;
pub use service::AuthService;
use tokio::sync::OnceCell;

use crate::error::AppError;
pub use crate::integrations::keys::KeyGrant;
use crate::partners::policy::PartnerScope;

/// An authenticated caller, loaded from its live session (so revocation takes effect at once).
#[derive(Debug)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub partner_id: Option<i64>,
    pub session_id: i64,
    /// A partner user who manages its own organisation's users and contacts.
    pub is_org_admin: bool,
    /// The partner organisations this caller may see, computed at most once per request.
    pub(crate) scope: OnceCell<PartnerScope>,
    /// Rows read with the session, handed to the request's loaders.
    pub(crate) rows: Option<Arc<CallerRows>>,
    /// The API key the caller came with (none for a signed-in session).
    pub api_key: Option<Arc<KeyGrant>>,
}

/// The caller's user, partner, tier and verticals as authentication read them.
#[derive(Debug, Clone)]
pub struct CallerRows {
    pub user: entity::user::Model,
    pub partner: Option<entity::partner::Model>,
    pub tier: Option<entity::tier::Model>,
    /// The partner's verticals (empty without a partner).
    pub verticals: Vec<entity::partner_vertical::Model>,
    /// Whether any partner sits below the caller's partner (a distributor's tier-two
    /// resellers): without any, its partner scope is itself, with no tree to read.
    pub has_tier_two: bool,
}

impl Actor {
    pub fn new(user_id: i64, role: Role, partner_id: Option<i64>, session_id: i64) -> Self {
        Actor {
            user_id,
            role,
            partner_id,
            session_id,
            is_org_admin: false,
            scope: OnceCell::new(),
            rows: None,
            api_key: None,
        }
    }

    pub fn with_rows(mut self, rows: Arc<CallerRows>) -> Self {
        self.rows = Some(rows);
        self
    }

    pub fn with_org_admin(mut self, is_org_admin: bool) -> Self {
        self.is_org_admin = is_org_admin;
        self
    }

    pub fn with_api_key(mut self, grant: Arc<KeyGrant>) -> Self {
        self.api_key = Some(grant);
        self
    }

    /// The id of the API key the caller came with, for history rows.
    pub fn api_key_id(&self) -> Option<i64> {
        self.api_key.as_ref().map(|k| k.id)
    }

    pub fn is_vendor_staff(&self) -> bool {
        matches!(self.role, Role::ChannelManager | Role::DirectRep)
    }
}

#[derive(Debug, Clone, Default)]
pub enum Viewer {
    #[default]
    Anonymous,
    User(Arc<Actor>),
}

/// The client's network address, when the transport knows it (used by the login throttle).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientAddr(pub Option<IpAddr>);

/// The session a `login` or `refreshSession` of this operation started: the fields of its
/// payload (`login { user { partner { … } } }`) resolve as that user, not as the anonymous
/// caller who sent the mutation.
#[derive(Debug, Default, Clone)]
pub struct SignedIn(Arc<std::sync::OnceLock<Arc<Actor>>>);

impl SignedIn {
    pub fn set(&self, actor: Actor) {
        let _ = self.0.set(Arc::new(actor));
    }

    /// The session this operation started, if it started one.
    pub fn get(&self) -> Option<&Arc<Actor>> {
        self.0.get()
    }
}

/// The authenticated caller, or `UNAUTHENTICATED`.
pub fn actor(ctx: &Context<'_>) -> async_graphql::Result<Arc<Actor>> {
    if let Some(Viewer::User(actor)) = ctx.data_opt::<Viewer>() {
        return Ok(actor.clone());
    }
    match ctx
        .data_opt::<SignedIn>()
        .and_then(|signed_in| signed_in.0.get())
    {
        Some(actor) => Ok(actor.clone()),
        None => Err(AppError::unauthenticated().extend()),
    }
}
