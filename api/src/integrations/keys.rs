//! API keys: secrets a partner's or the vendor's own systems call the API with, acting as
//! the key's organisation (through the role of the user who made it) narrowed by scopes.

use std::sync::Arc;

use crate::auth::callers::{CallerCache, KnownKey};

use chrono::{DateTime, Duration, Utc};
use entity::enums::{PartnerStatus, Role};
use entity::{api_key, partner, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    Select,
};

use super::scopes::{ApiScope, Scopes};
use super::text;
use crate::auth::tokens::{random_secret, token_hash};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::relay::{UserError, UserErrorCode};

/// Every key starts with this, so a leaked one is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "pgk_";
/// Characters of a key shown in lists: the prefix and the first eight of its secret.
const SHOWN_CHARS: usize = 12;
/// Active keys one organisation (or the vendor) may hold.
const MAX_ACTIVE_KEYS: u64 = 50;
/// `lastUsedAt` moves at most this often, so a busy key does not write on every call.
const LAST_USED_GRANULARITY_SECONDS: i64 = 60;

/// The key a request came with, as its history and limits name it.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub id: i64,
    pub name: String,
    pub scopes: Scopes,
}

pub struct NewKey {
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub partner_id: Option<i64>,
}

/// A key as created: the row and the secret, which is never shown again.
pub struct Created {
    pub key: api_key::Model,
    pub secret: String,
}

/// Whether a bearer token is an API key rather than a session's access token.
pub fn is_api_key(bearer: &str) -> bool {
    bearer.starts_with(KEY_PREFIX)
}

/// Who may create keys for whom: a channel manager creates vendor keys (no partner), a
/// partner's organisation admin its own organisation's.
fn owner_for(actor: &Actor, partner_id: Option<i64>) -> Result<Option<i64>, UserError> {
    match (actor.role, partner_id) {
        (Role::ChannelManager, None) => Ok(None),
        (Role::ChannelManager, Some(_)) => Err(UserError::new(
            "partnerId",
            UserErrorCode::RuleViolation,
            "vendor keys act for the whole program; a partner's organisation admin creates \
             that partner's keys",
        )),
        (Role::Partner, requested) if actor.is_org_admin => match (requested, actor.partner_id) {
            (None, Some(own)) => Ok(Some(own)),
            (Some(asked), Some(own)) if asked == own => Ok(Some(own)),
            _ => Err(UserError::new(
                "partnerId",
                UserErrorCode::NotFound,
                "no such partner",
            )),
        },
        _ => Err(UserError::new(
            "partnerId",
            UserErrorCode::RuleViolation,
            "only a channel manager or a partner's organisation admin creates API keys",
        )),
    }
}

/// The keys `actor` may see and manage: all for a channel manager, its organisation's for
/// an organisation admin; `None` for everyone else.
pub fn manageable(actor: &Actor) -> Option<Select<api_key::Entity>> {
    let all = api_key::Entity::find();
    match actor.role {
        Role::ChannelManager => Some(all),
        Role::Partner if actor.is_org_admin => {
            let own = actor.partner_id?;
            Some(all.filter(api_key::Column::PartnerId.eq(own)))
        }
        _ => None,
    }
}

fn validate(new: &NewKey, now: DateTime<Utc>) -> Result<(String, Scopes), Vec<UserError>> {
    let mut errors = Vec::new();
    let name = text::required("name", &new.name, 100).map_err(|e| errors.push(e));
    if new.scopes.is_empty() {
        errors.push(UserError::new(
            "scopes",
            UserErrorCode::Required,
            "name at least one scope",
        ));
    }
    if let Some(expires) = new.expires_at {
        if expires <= now {
            errors.push(UserError::new(
                "expiresAt",
                UserErrorCode::Invalid,
                "must be in the future",
            ));
        } else if expires > now + Duration::days(3 * 365) {
            errors.push(UserError::new(
                "expiresAt",
                UserErrorCode::Invalid,
                "must be within three years",
            ));
        }
    }
    match name {
        Ok(name) if errors.is_empty() => Ok((name, Scopes::new(new.scopes.clone()))),
        _ => Err(errors),
    }
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    new: NewKey,
) -> AppResult<Result<Created, Vec<UserError>>> {
    if manageable(actor).is_none() {
        return Err(AppError::forbidden());
    }
    let now = Utc::now();
    let owner = match owner_for(actor, new.partner_id) {
        Ok(owner) => owner,
        Err(error) => return Ok(Err(vec![error])),
    };
    let (name, scopes) = match validate(&new, now) {
        Ok(valid) => valid,
        Err(errors) => return Ok(Err(errors)),
    };
    let active = api_key::Entity::find()
        .filter(match owner {
            Some(partner) => api_key::Column::PartnerId.eq(partner),
            None => api_key::Column::PartnerId.is_null(),
        })
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    if active >= MAX_ACTIVE_KEYS {
        return Ok(Err(UserError::one(
            "name",
            UserErrorCode::RuleViolation,
            format!("at most {MAX_ACTIVE_KEYS} active keys; revoke one first"),
        )));
    }
    let secret = format!("{KEY_PREFIX}{}", random_secret(30));
    let key = api_key::ActiveModel {
        name: Set(name),
        prefix: Set(secret.chars().take(SHOWN_CHARS).collect()),
        secret_hash: Set(token_hash(&secret)),
        scopes: Set(scopes.stored()),
        partner_id: Set(owner),
        created_by_id: Set(actor.user_id),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Ok(Created { key, secret }))
}

/// Revokes a key `actor` may manage; `NOT_FOUND` for others. Revoking twice keeps the
/// first time.
pub async fn revoke(db: &Db, actor: &Actor, id: i64) -> AppResult<api_key::Model> {
    let select = manageable(actor).ok_or_else(AppError::forbidden)?;
    let key = select
        .filter(api_key::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("no such API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    let revoked = active.update(db).await?;
    crate::auth::callers::forget_key(revoked.id);
    Ok(revoked)
}

/// The key `id` if `actor` manages it.
pub async fn find(db: &Db, actor: &Actor, id: i64) -> AppResult<Option<api_key::Model>> {
    match manageable(actor) {
        Some(select) => Ok(select.filter(api_key::Column::Id.eq(id)).one(db).await?),
        None => Ok(None),
    }
}

fn rejected() -> AppError {
    AppError::Unauthenticated("this API key is not valid (unknown, expired or revoked)".into())
}

/// The caller a key stands for, checked on every request (so a revocation, an expiry, a
/// deactivated creator or a terminated partner takes effect at once on every replica).
pub async fn authenticate(db: &Db, callers: &CallerCache, secret: &str) -> AppResult<Actor> {
    let hash = token_hash(secret);
    let now = Utc::now();
    if let Some(remembered) = callers.key(&hash) {
        let known = &remembered.known;
        if known.expires_at.is_some_and(|at| at <= now) {
            return Err(rejected());
        }
        if used_long_ago(known.last_used_at, now) {
            // The update is heard as a change to the key: the next request reads it again.
            mark_used(db, known.grant.id, now).await?;
        }
        return Ok(Actor::new(known.user_id, known.role, known.partner_id, 0)
            .with_api_key(known.grant.clone()));
    }
    let tag = callers.tag();
    let key = api_key::Entity::find()
        .filter(api_key::Column::SecretHash.eq(hash.as_str()))
        .one(db)
        .await?
        .ok_or_else(rejected)?;
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
        return Err(rejected());
    }
    let creator = user::Entity::find_by_id(key.created_by_id)
        .one(db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(rejected)?;
    if let Some(partner_id) = key.partner_id {
        let partner = partner::Entity::find_by_id(partner_id).one(db).await?;
        let ended = partner.is_none_or(|p| p.status == PartnerStatus::Terminated);
        if ended || creator.partner_id != Some(partner_id) {
            return Err(rejected());
        }
    }
    let used_at = match used_long_ago(key.last_used_at, now) {
        true => {
            mark_used(db, key.id, now).await?;
            Some(now)
        }
        false => key.last_used_at,
    };
    let grant = Arc::new(KeyGrant {
        id: key.id,
        name: key.name.clone(),
        scopes: Scopes::parse(&key.scopes),
    });
    let known = KnownKey {
        user_id: creator.id,
        role: creator.role,
        partner_id: key.partner_id,
        grant: grant.clone(),
        expires_at: key.expires_at,
        last_used_at: used_at,
    };
    callers.keep_key(tag, hash, known);
    Ok(Actor::new(creator.id, creator.role, key.partner_id, 0).with_api_key(grant))
}

/// `lastUsedAt` is kept to the minute: a busy key does not write on every request.
fn used_long_ago(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|at| now - at >= Duration::seconds(LAST_USED_GRANULARITY_SECONDS))
}

async fn mark_used(db: &Db, key_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Some(now).into())
        .filter(api_key::Column::Id.eq(key_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The names of keys by id (history entries name the key a change came through).
pub async fn names(db: &Db, ids: &[i64]) -> AppResult<std::collections::HashMap<i64, String>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|k| (k.id, k.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_make_vendor_keys_and_org_admins_their_own() {
        let manager = Actor::new(1, Role::ChannelManager, None, 1);
        let admin = Actor::new(2, Role::Partner, Some(10), 2).with_org_admin(true);
        let member = Actor::new(3, Role::Partner, Some(10), 3);
        assert_eq!(owner_for(&manager, None).unwrap(), None);
        assert!(owner_for(&manager, Some(10)).is_err());
        assert_eq!(owner_for(&admin, None).unwrap(), Some(10));
        assert_eq!(owner_for(&admin, Some(10)).unwrap(), Some(10));
        assert!(owner_for(&admin, Some(11)).is_err());
        assert!(owner_for(&member, None).is_err());
        assert!(manageable(&member).is_none());
    }

    #[test]
    fn a_key_needs_a_name_a_scope_and_a_future_expiry() {
        let now = Utc::now();
        let bad = NewKey {
            name: " ".into(),
            scopes: vec![],
            expires_at: Some(now - Duration::seconds(1)),
            partner_id: None,
        };
        let fields: Vec<_> = validate(&bad, now)
            .unwrap_err()
            .into_iter()
            .filter_map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "scopes", "expiresAt"]);
        assert!(is_api_key("pgk_abc"));
        assert!(!is_api_key("eyJhbGciOi"));
    }
}
