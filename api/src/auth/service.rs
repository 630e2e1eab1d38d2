//! Login, refresh-token rotation, logout, and turning a bearer token into an `Actor`.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use entity::{partner, partner_vertical, session, setting, tier, user};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryResult, Statement,
};

use super::callers::{self, CallerCache};
use super::jwt::JwtKeys;
use super::password::verify_password;
use super::throttle::{self, ThrottleKeys};
use super::tokens::{random_secret, token_hash};
use super::{Actor, CallerRows};
use crate::config::AuthConfig;
use crate::db::{select_prefixed, Db, Prefixed, ReadRow};
use crate::error::{AppError, AppResult};

const JWT_SECRET_SETTING: &str = "jwt_secret";

pub struct AuthService {
    keys: JwtKeys,
    /// Same secret, another audience: a download link can never pass as an access token.
    downloads: JwtKeys,
    config: AuthConfig,
    /// Sessions and API keys this replica has checked (see `callers`).
    pub(crate) callers: Arc<CallerCache>,
}

/// What a signed download link grants: one user, one file of one content item, briefly.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct DownloadClaims {
    /// The user id (JWT requires a string subject).
    pub sub: String,
    pub content: i64,
    pub file: i64,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
}

const DOWNLOAD_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// What a successful login or refresh hands to the client.
pub struct Session {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub user: user::Model,
}

fn wrong_credentials() -> AppError {
    AppError::Unauthenticated("invalid email or password".into())
}

fn invalid_refresh_token() -> AppError {
    AppError::Unauthenticated("invalid or expired refresh token".into())
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl AuthService {
    /// Uses the configured secret, or the one every replica shares through the database
    /// (created by whichever replica starts first).
    pub async fn new(db: &Db, config: AuthConfig) -> AppResult<Self> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => shared_secret(db).await?,
        };
        let keys = JwtKeys::new(
            secret.as_bytes(),
            &config.issuer,
            &config.audience,
            config.access_token_ttl,
        );
        let downloads = JwtKeys::new(
            secret.as_bytes(),
            &config.issuer,
            &format!("{}-download", config.audience),
            DOWNLOAD_LINK_TTL,
        );
        Ok(AuthService {
            keys,
            downloads,
            config,
            callers: Arc::default(),
        })
    }

    pub async fn login(
        &self,
        db: &Db,
        email: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> AppResult<Session> {
        let email = normalize_email(email);
        let keys = ThrottleKeys::new(&email, addr);
        throttle::check(db, &keys, &self.config.throttle).await?;
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(db)
            .await?;
        let stored_hash = found.as_ref().map(|u| u.password_hash.clone());
        let password_ok = verify_password(password.to_owned(), stored_hash).await?;
        let user = match found {
            Some(user) if password_ok && user.is_active => user,
            _ => {
                throttle::record_failure(db, &keys, &self.config.throttle).await?;
                return Err(wrong_credentials());
            }
        };
        throttle::clear_account(db, &keys).await?;
        if partnership_ended(db, &user).await? {
            return Err(AppError::Forbidden(
                "your organisation's partnership has ended".into(),
            ));
        }
        self.start_session(db, user).await
    }

    async fn start_session(&self, db: &Db, user: user::Model) -> AppResult<Session> {
        let now = Utc::now();
        let refresh_token = random_secret(32);
        let refresh_expires = now + self.refresh_ttl()?;
        let created = session::ActiveModel {
            user_id: Set(user.id),
            refresh_token_hash: Set(token_hash(&refresh_token)),
            previous_token_hash: Set(None),
            expires_at: Set(refresh_expires),
            revoked_at: Set(None),
            created_at: Set(now),
            last_used_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let (access_token, access_expires) = self.keys.issue(user.id, created.id)?;
        Ok(Session {
            access_token,
            access_token_expires_at: access_expires,
            refresh_token,
            refresh_token_expires_at: refresh_expires,
            user,
        })
    }

    fn refresh_ttl(&self) -> AppResult<chrono::Duration> {
        chrono::Duration::from_std(self.config.refresh_token_ttl).map_err(AppError::internal)
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works once; presenting
    /// an already-rotated one means it was copied, so the whole session is revoked.
    pub async fn refresh(&self, db: &Db, refresh_token: &str) -> AppResult<Session> {
        let hash = token_hash(refresh_token);
        let now = Utc::now();
        let txn = crate::db::begin_write(db).await?;
        let current = session::Entity::find()
            .filter(session::Column::RefreshTokenHash.eq(hash.as_str()))
            .find_also_related(user::Entity)
            .one(&txn)
            .await?;
        let Some((found, Some(user))) = current else {
            revoke_if_reused(&txn, &hash, now).await?;
            txn.commit().await?;
            return Err(invalid_refresh_token());
        };
        if found.revoked_at.is_some() || found.expires_at <= now || !user.is_active {
            txn.rollback().await?;
            return Err(invalid_refresh_token());
        }
        let new_token = random_secret(32);
        let expires = now + self.refresh_ttl()?;
        // Compare-and-swap on the old hash: of two concurrent refreshes only one rotates.
        let rotated = session::Entity::update_many()
            .col_expr(
                session::Column::RefreshTokenHash,
                token_hash(&new_token).into(),
            )
            .col_expr(
                session::Column::PreviousTokenHash,
                Some(hash.clone()).into(),
            )
            .col_expr(session::Column::ExpiresAt, expires.into())
            .col_expr(session::Column::LastUsedAt, now.into())
            .filter(session::Column::Id.eq(found.id))
            .filter(session::Column::RefreshTokenHash.eq(hash.as_str()))
            .exec(&txn)
            .await?;
        if rotated.rows_affected != 1 {
            txn.rollback().await?;
            return Err(invalid_refresh_token());
        }
        txn.commit().await?;
        let (access_token, access_expires) = self.keys.issue(user.id, found.id)?;
        Ok(Session {
            access_token,
            access_token_expires_at: access_expires,
            refresh_token: new_token,
            refresh_token_expires_at: expires,
            user,
        })
    }

    /// Ends the caller's session, or every session of the caller's account.
    pub async fn logout(&self, db: &Db, actor: &Actor, everywhere: bool) -> AppResult<u64> {
        let mut revoke = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Some(Utc::now()).into())
            .filter(session::Column::RevokedAt.is_null());
        revoke = if everywhere {
            revoke.filter(session::Column::UserId.eq(actor.user_id))
        } else {
            revoke.filter(session::Column::Id.eq(actor.session_id))
        };
        let ended = revoke.exec(db).await?.rows_affected;
        match everywhere {
            true => callers::forget_user(actor.user_id),
            false => callers::forget_session(actor.session_id),
        }
        Ok(ended)
    }

    /// A short-lived link token letting `user_id` download `file_id` of `content_id`.
    pub fn download_token(&self, user_id: i64, content_id: i64, file_id: i64) -> AppResult<String> {
        let exp = (Utc::now()
            + chrono::Duration::from_std(DOWNLOAD_LINK_TTL).map_err(AppError::internal)?)
        .timestamp();
        self.downloads.sign(&DownloadClaims {
            sub: user_id.to_string(),
            content: content_id,
            file: file_id,
            iss: self.downloads.issuer().to_owned(),
            aud: self.downloads.audience().to_owned(),
            exp,
        })
    }

    pub fn open_download_token(&self, token: &str) -> Option<DownloadClaims> {
        self.downloads.open(token)
    }

    /// A valid signature is not enough: the session must still be live and the user active.
    /// One statement reads the session with its user, the user's partner and the partner's
    /// tier; the request's loaders start with those rows (most requests need them). A
    /// session this replica has checked since its last change is answered from memory.
    pub async fn authenticate(&self, db: &Db, bearer: &str) -> AppResult<Actor> {
        self.callers.start(db);
        if crate::integrations::keys::is_api_key(bearer) {
            return crate::integrations::keys::authenticate(db, &self.callers, bearer).await;
        }
        let claims = self.keys.verify(bearer)?;
        let rejected = || AppError::Unauthenticated("session has ended; log in again".into());
        let user_id: i64 = claims.sub.parse().map_err(|_| rejected())?;
        if let Some(remembered) = self.callers.session(claims.sid) {
            return match remembered.known.user.id == user_id {
                true => Ok(actor_of(claims.sid, remembered.known.clone())),
                false => Err(rejected()),
            };
        }
        let tag = self.callers.tag();
        let (found, rows) = session_with_rows(db, claims.sid)
            .await?
            .ok_or_else(rejected)?;
        if found.user_id != user_id || found.revoked_at.is_some() || !rows.user.is_active {
            return Err(rejected());
        }
        let rows = Arc::new(rows);
        self.callers.keep_session(tag, found.id, rows.clone());
        Ok(actor_of(found.id, rows))
    }
}

/// The caller of a live session whose rows are `rows`.
fn actor_of(session_id: i64, rows: Arc<CallerRows>) -> Actor {
    let user = &rows.user;
    Actor::new(user.id, user.role, user.partner_id, session_id)
        .with_org_admin(user.is_org_admin)
        .with_rows(rows)
}

/// `session_id`'s session and the rows around it, in one statement.
async fn session_with_rows(
    db: &Db,
    session_id: i64,
) -> AppResult<Option<(session::Model, CallerRows)>> {
    let backend = db.get_database_backend();
    let statement =
        Statement::from_sql_and_values(backend, session_sql(backend), [session_id.into()]);
    let Some(row) = db.query_one(statement).await? else {
        return Ok(None);
    };
    let rows = CallerRows {
        user: user::Model::read_row(&Prefixed::new(&row, "u_"))?,
        partner: joined::<partner::Model>(&row, "p_")?,
        tier: joined::<tier::Model>(&row, "t_")?,
        verticals: verticals_of(&row)?,
        has_tier_two: row.try_get("p_", "has_tier_two")?,
    };
    let session = session::Model::read_row(&Prefixed::new(&row, "s_"))?;
    Ok(Some((session, rows)))
}

/// The model a LEFT JOIN found under `prefix`, if it found one.
fn joined<M: ReadRow>(row: &QueryResult, prefix: &str) -> AppResult<Option<M>> {
    let columns = Prefixed::new(row, prefix);
    match columns.named::<Option<i64>>("id")? {
        Some(_) => Ok(Some(M::read_row(&columns)?)),
        None => Ok(None),
    }
}

/// The partner's verticals, read with the session as a JSON array of `[id, vertical]` (the
/// content policy needs them on every partner request that lists content).
fn verticals_of(row: &QueryResult) -> AppResult<Vec<partner_vertical::Model>> {
    let Some(partner_id) = row.try_get::<Option<i64>>("p_", "id")? else {
        return Ok(vec![]);
    };
    let text: String = row.try_get("p_", "verticals")?;
    let pairs: Vec<(i64, String)> = serde_json::from_str(&text)
        .map_err(|e| AppError::internal(format!("partner verticals: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(id, vertical)| partner_vertical::Model {
            id,
            partner_id,
            vertical,
        })
        .collect())
}

/// The partner's verticals as JSON text, `[]` for none.
fn verticals_json(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "(SELECT COALESCE(json_agg(json_build_array(pv.id, pv.vertical) ORDER BY pv.id), \
             '[]')::text FROM partner_verticals pv WHERE pv.partner_id = partners.id)"
        }
        _ => {
            "(SELECT json_group_array(json_array(pv.id, pv.vertical)) \
             FROM (SELECT id, vertical FROM partner_verticals \
             WHERE partner_id = partners.id ORDER BY id) pv)"
        }
    }
}

/// The SQL of `session_with_rows` for `backend`, built once: every request runs it.
fn session_sql(backend: DbBackend) -> &'static str {
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let cell = match backend {
        DbBackend::Postgres => &POSTGRES,
        _ => &SQLITE,
    };
    cell.get_or_init(|| {
        let mut query = Query::select();
        query
            .from(session::Entity)
            .inner_join(
                user::Entity,
                Expr::col((user::Entity, user::Column::Id))
                    .equals((session::Entity, session::Column::UserId)),
            )
            .left_join(
                partner::Entity,
                Expr::col((partner::Entity, partner::Column::Id))
                    .equals((user::Entity, user::Column::PartnerId)),
            )
            .left_join(
                tier::Entity,
                Expr::col((tier::Entity, tier::Column::Id))
                    .equals((partner::Entity, partner::Column::TierId)),
            )
            .and_where(Expr::col((session::Entity, session::Column::Id)).eq(0));
        select_prefixed::<session::Entity>(&mut query, "s_");
        select_prefixed::<user::Entity>(&mut query, "u_");
        select_prefixed::<partner::Entity>(&mut query, "p_");
        select_prefixed::<tier::Entity>(&mut query, "t_");
        query.expr_as(
            Expr::cust(verticals_json(backend)),
            Alias::new("p_verticals"),
        );
        query.expr_as(
            Expr::cust(
                "EXISTS (SELECT 1 FROM partners AS below WHERE below.parent_id = partners.id)",
            ),
            Alias::new("p_has_tier_two"),
        );
        backend.build(&query).sql
    })
}

async fn partnership_ended(db: &impl ConnectionTrait, user: &user::Model) -> AppResult<bool> {
    let Some(partner_id) = user.partner_id else {
        return Ok(false);
    };
    Ok(entity::partner::Entity::find_by_id(partner_id)
        .one(db)
        .await?
        .is_some_and(|p| p.status == entity::enums::PartnerStatus::Terminated))
}

async fn revoke_if_reused(
    db: &impl ConnectionTrait,
    hash: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let reused = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Some(now).into())
        .filter(session::Column::PreviousTokenHash.eq(hash))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if reused.rows_affected > 0 {
        tracing::warn!("a rotated refresh token was presented again; its session is revoked");
        let revoked = session::Entity::find()
            .filter(session::Column::PreviousTokenHash.eq(hash))
            .all(db)
            .await?;
        for session in revoked {
            callers::forget_session(session.id);
        }
    }
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub async fn revoke_user_sessions(db: &impl ConnectionTrait, user_id: i64) -> AppResult<u64> {
    callers::forget_user(user_id);
    Ok(session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Some(Utc::now()).into())
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

async fn shared_secret(db: &Db) -> AppResult<String> {
    let candidate = setting::ActiveModel {
        key: Set(JWT_SECRET_SETTING.into()),
        value: Set(random_secret(48)),
    };
    // Insert-if-absent, then read back: concurrent first starts agree on one secret.
    setting::Entity::insert(candidate)
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    setting::Entity::find_by_id(JWT_SECRET_SETTING.to_owned())
        .one(db)
        .await?
        .map(|s| s.value)
        .ok_or_else(|| AppError::internal("jwt secret missing after insert"))
}
