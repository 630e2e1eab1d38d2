use chrono::Utc;
use entity::enums::Role;
use entity::{partner, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::policy::can_read_user;
use crate::auth::password::{hash_password, password_problem};
use crate::auth::service::{normalize_email, revoke_user_sessions};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::relay::{UserError, UserErrorCode};

pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub partner_id: Option<i64>,
    pub password: String,
    pub is_org_admin: bool,
}

/// A plausible email address: one `@`, a local part, a dotted domain, no spaces.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

async fn validate(
    db: &impl ConnectionTrait,
    new: &NewUser,
    email: &str,
) -> AppResult<Vec<UserError>> {
    let mut errors = Vec::new();
    if !is_valid_email(email) {
        errors.push(UserError::new(
            "email",
            UserErrorCode::Invalid,
            "is not a valid email address",
        ));
    } else if user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some()
    {
        errors.push(UserError::new(
            "email",
            UserErrorCode::Taken,
            "is already used by another user",
        ));
    }
    if new.name.trim().is_empty() {
        errors.push(UserError::new(
            "name",
            UserErrorCode::Required,
            "must not be blank",
        ));
    }
    if let Some(problem) = password_problem(&new.password) {
        errors.push(UserError::new("password", UserErrorCode::Invalid, problem));
    }
    if new.is_org_admin && new.role != Role::Partner {
        errors.push(UserError::new(
            "isOrgAdmin",
            UserErrorCode::Invalid,
            "only partner users administer an organisation",
        ));
    }
    match (new.role, new.partner_id) {
        (Role::Partner, None) => errors.push(UserError::new(
            "partnerId",
            UserErrorCode::Required,
            "a partner user must belong to a partner organisation",
        )),
        (Role::Partner, Some(id)) => {
            if partner::Entity::find_by_id(id).one(db).await?.is_none() {
                errors.push(UserError::new(
                    "partnerId",
                    UserErrorCode::NotFound,
                    "no such partner",
                ));
            }
        }
        (_, Some(_)) => errors.push(UserError::new(
            "partnerId",
            UserErrorCode::Invalid,
            "only partner users belong to a partner organisation",
        )),
        (_, None) => {}
    }
    Ok(errors)
}

/// Creates a user, or returns what is wrong with the input (and creates nothing).
pub async fn create_user(
    db: &impl ConnectionTrait,
    new: NewUser,
) -> AppResult<Result<user::Model, Vec<UserError>>> {
    let email = normalize_email(&new.email);
    let errors = validate(db, &new, &email).await?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let now = Utc::now();
    let created = user::ActiveModel {
        email: Set(email),
        name: Set(new.name.trim().to_owned()),
        role: Set(new.role),
        partner_id: Set(new.partner_id),
        password_hash: Set(hash_password(new.password).await?),
        is_active: Set(true),
        is_org_admin: Set(new.is_org_admin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Ok(created))
}

/// Turns a user's access off (`active: false`, ending every session at once) or back on.
pub async fn set_active(db: &Db, target: user::Model, active: bool) -> AppResult<user::Model> {
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    let mut model: user::ActiveModel = target.into();
    model.is_active = Set(active);
    model.deactivated_at = Set((!active).then_some(now));
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    if !active {
        revoke_user_sessions(&txn, updated.id).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

pub async fn find_visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<Option<user::Model>> {
    let Some(found) = user::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(can_read_user(db, actor, &found).await?.then_some(found))
}

#[cfg(test)]
mod tests {
    use super::is_valid_email;

    #[test]
    fn email_shape() {
        assert!(is_valid_email("alice@northwind.example"));
        assert!(!is_valid_email("alice"));
        assert!(!is_valid_email("@northwind.example"));
        assert!(!is_valid_email("alice@localhost"));
        assert!(!is_valid_email("a b@northwind.example"));
        assert!(!is_valid_email("a@b@northwind.example"));
    }
}
