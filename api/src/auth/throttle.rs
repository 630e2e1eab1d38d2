//! Login throttling kept in the database, so every replica counts the same failures.

use std::net::IpAddr;

use chrono::Utc;
use entity::login_attempt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::config::ThrottleConfig;
use crate::error::{AppError, AppResult};

pub struct ThrottleKeys {
    account: String,
    address: Option<String>,
}

impl ThrottleKeys {
    pub fn new(email: &str, addr: Option<IpAddr>) -> Self {
        ThrottleKeys {
            account: format!("account:{email}"),
            address: addr.map(|a| format!("address:{a}")),
        }
    }
}

fn window_start(config: &ThrottleConfig) -> AppResult<chrono::DateTime<Utc>> {
    Ok(Utc::now() - chrono::Duration::from_std(config.window).map_err(AppError::internal)?)
}

async fn recent_failures(
    db: &impl ConnectionTrait,
    key: &str,
    config: &ThrottleConfig,
) -> AppResult<u64> {
    Ok(login_attempt::Entity::find()
        .filter(login_attempt::Column::ThrottleKey.eq(key))
        .filter(login_attempt::Column::AttemptedAt.gt(window_start(config)?))
        .count(db)
        .await?)
}

/// `RATE_LIMITED` when the account or the address has failed too often recently.
pub async fn check(
    db: &impl ConnectionTrait,
    keys: &ThrottleKeys,
    config: &ThrottleConfig,
) -> AppResult<()> {
    let limited = AppError::RateLimited("too many failed logins; try again later".into());
    if recent_failures(db, &keys.account, config).await? >= config.max_failures_per_account {
        return Err(limited);
    }
    if let Some(address) = &keys.address {
        if recent_failures(db, address, config).await? >= config.max_failures_per_address {
            return Err(limited);
        }
    }
    Ok(())
}

pub async fn record_failure(
    db: &impl ConnectionTrait,
    keys: &ThrottleKeys,
    config: &ThrottleConfig,
) -> AppResult<()> {
    let now = Utc::now();
    let mut rows = vec![&keys.account];
    rows.extend(keys.address.as_ref());
    login_attempt::Entity::insert_many(rows.iter().map(|key| login_attempt::ActiveModel {
        throttle_key: Set((*key).clone()),
        attempted_at: Set(now),
        ..Default::default()
    }))
    .exec(db)
    .await?;
    // Old attempts no longer count; dropping them keeps the table small.
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::AttemptedAt.lt(window_start(config)?))
        .exec(db)
        .await?;
    Ok(())
}

/// A successful login forgives the account's earlier failures (not the address's).
pub async fn clear_account(db: &impl ConnectionTrait, keys: &ThrottleKeys) -> AppResult<()> {
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::ThrottleKey.eq(keys.account.as_str()))
        .exec(db)
        .await?;
    Ok(())
}
