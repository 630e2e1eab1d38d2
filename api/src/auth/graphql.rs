use async_graphql::ResultExt;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

use super::service::Session;
use super::{actor, AuthService, ClientAddr, SignedIn};
use crate::db::Db;
use crate::error::AppError;
use crate::relay::{UserError, UserErrorCode};
use crate::users::User;

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The authenticated caller.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let actor = actor(ctx)?;
        crate::loaders::load_one::<user::Entity>(ctx, actor.user_id)
            .await?
            .map(User::own)
            .ok_or_else(|| AppError::unauthenticated().extend())
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from `login` or the previous `refreshSession`; it works once.
    pub refresh_token: String,
}

#[derive(InputObject, Default)]
pub struct LogoutInput {
    /// End every session of this account, not only the current one.
    #[graphql(default)]
    pub everywhere: bool,
}

/// The rest of this operation runs as the session just started (see `SignedIn`).
async fn signed_in(
    ctx: &Context<'_>,
    auth: &AuthService,
    db: &Db,
    session: &Session,
) -> async_graphql::Result<()> {
    if let Some(cell) = ctx.data_opt::<SignedIn>() {
        cell.set(
            auth.authenticate(db, &session.access_token)
                .await
                .extend()?,
        );
    }
    Ok(())
}

/// Tokens for a new or refreshed session. `accessToken` goes in `Authorization: Bearer …`.
#[derive(SimpleObject, Default)]
pub struct SessionPayload {
    pub access_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Opaque; exchange it with `refreshSession` before it expires. Shown only here.
    pub refresh_token: Option<String>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub user: Option<User>,
    pub user_errors: Vec<UserError>,
}

impl From<Session> for SessionPayload {
    fn from(session: Session) -> Self {
        SessionPayload {
            access_token: Some(session.access_token),
            access_token_expires_at: Some(session.access_token_expires_at),
            refresh_token: Some(session.refresh_token),
            refresh_token_expires_at: Some(session.refresh_token_expires_at),
            user: Some(User::own(session.user)),
            user_errors: Vec::new(),
        }
    }
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// How many sessions were ended.
    pub sessions_ended: i32,
    pub user_errors: Vec<UserError>,
}

fn blank_field_errors(fields: &[(&str, &str)]) -> Vec<UserError> {
    fields
        .iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(name, _)| UserError::new(name, UserErrorCode::Required, "must not be blank"))
        .collect()
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Starts a session. Wrong credentials are `UNAUTHENTICATED`; repeated failures for an
    /// account or address are `RATE_LIMITED` for a while.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<SessionPayload> {
        let errors = blank_field_errors(&[("email", &input.email), ("password", &input.password)]);
        if !errors.is_empty() {
            return Ok(SessionPayload {
                user_errors: errors,
                ..Default::default()
            });
        }
        let db = ctx.data::<Db>()?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let addr = ctx.data_opt::<ClientAddr>().copied().unwrap_or_default();
        let session = auth
            .login(db, &input.email, &input.password, addr.0)
            .await
            .extend()?;
        signed_in(ctx, auth, db, &session).await?;
        Ok(session.into())
    }

    /// Rotates a refresh token into a new token pair.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> async_graphql::Result<SessionPayload> {
        let db = ctx.data::<Db>()?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let session = auth.refresh(db, &input.refresh_token).await.extend()?;
        signed_in(ctx, auth, db, &session).await?;
        Ok(session.into())
    }

    /// Ends the current session (its access and refresh tokens stop working at once).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: Option<LogoutInput>,
    ) -> async_graphql::Result<LogoutPayload> {
        let actor = actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let auth = ctx.data::<Arc<AuthService>>()?;
        let everywhere = input.unwrap_or_default().everywhere;
        let ended = auth.logout(db, &actor, everywhere).await.extend()?;
        Ok(LogoutPayload {
            sessions_ended: ended as i32,
            user_errors: Vec::new(),
        })
    }
}
