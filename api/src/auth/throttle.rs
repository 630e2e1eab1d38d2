//! Login throttling kept in the database, so every replica counts the same failures.
//!
//! Failures are counted three ways, so that guessing is slowed without handing anyone a way
//! to lock a user out:
//! - per account *and* client address: after a few failures the next try from that client
//!   waits, the delay doubling with each further failure (up to the window);
//! - per client address, whatever the accounts (password spraying);
//! - per account from every address together, with a cap far above what one client reaches
//!   before its own delays make guessing pointless, so a stranger's wrong passwords from one
//!   address never stop the owner signing in from another.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::login_attempt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::config::ThrottleConfig;
use crate::error::{AppError, AppResult};

pub struct ThrottleKeys {
    account: String,
    address: Option<String>,
    client: String,
}

impl ThrottleKeys {
    pub fn new(email: &str, addr: Option<IpAddr>) -> Self {
        let address = addr.map(|a| format!("address:{a}"));
        let client = format!(
            "client:{email}|{}",
            addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
        );
        ThrottleKeys {
            account: format!("account:{email}"),
            address,
            client,
        }
    }
}

fn window(config: &ThrottleConfig) -> AppResult<chrono::Duration> {
    chrono::Duration::from_std(config.window).map_err(AppError::internal)
}

/// The newest `limit` failures of `key` within the window, newest first.
async fn recent_failures(
    db: &impl ConnectionTrait,
    key: &str,
    limit: u64,
    since: DateTime<Utc>,
) -> AppResult<Vec<DateTime<Utc>>> {
    Ok(login_attempt::Entity::find()
        .select_only()
        .column(login_attempt::Column::AttemptedAt)
        .filter(login_attempt::Column::ThrottleKey.eq(key))
        .filter(login_attempt::Column::AttemptedAt.gt(since))
        .order_by_desc(login_attempt::Column::AttemptedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// Whole seconds from `now` until `until`, at least one.
fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds().max(0) as u64;
    millis.div_ceil(1000).max(1)
}

fn limited(retry_after: u64) -> AppError {
    AppError::RateLimited {
        message: format!("too many failed logins; try again in {retry_after} s"),
        retry_after,
    }
}

/// The delay a client has earned with `failures` recent failures for one account.
pub fn client_delay(failures: u64, config: &ThrottleConfig) -> std::time::Duration {
    if failures < config.free_failures_per_client {
        return std::time::Duration::ZERO;
    }
    let doublings = (failures - config.free_failures_per_client).min(20) as u32;
    config
        .first_delay
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(config.window)
}

/// `RATE_LIMITED` (with the seconds to wait) while this client must wait for this account,
/// the address has failed too often, or the account has from everywhere.
pub async fn check(
    db: &impl ConnectionTrait,
    keys: &ThrottleKeys,
    config: &ThrottleConfig,
) -> AppResult<()> {
    let now = Utc::now();
    let since = now - window(config)?;
    // The delay stops growing after 20 doublings: no need to count further.
    let counted = config.free_failures_per_client + 21;
    let client = recent_failures(db, &keys.client, counted, since).await?;
    let delay = client_delay(client.len() as u64, config);
    if let Some(last) = client.first() {
        let until = *last + chrono::Duration::from_std(delay).map_err(AppError::internal)?;
        if !delay.is_zero() && until > now {
            return Err(limited(seconds_until(until, now)));
        }
    }
    let mut caps = vec![(&keys.account, config.max_failures_per_account)];
    if let Some(address) = &keys.address {
        caps.push((address, config.max_failures_per_address));
    }
    for (key, cap) in caps {
        let failures = recent_failures(db, key, cap, since).await?;
        if failures.len() as u64 >= cap.max(1) {
            // Allowed again once the oldest of the newest `cap` failures leaves the window.
            let oldest = *failures.last().expect("at least one failure");
            return Err(limited(seconds_until(oldest + window(config)?, now)));
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
    let mut rows = vec![&keys.account, &keys.client];
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
        .filter(login_attempt::Column::AttemptedAt.lt(now - window(config)?))
        .exec(db)
        .await?;
    Ok(())
}

/// A successful login forgives this client's and the account's earlier failures (not the
/// address's, nor other clients' for this account).
pub async fn clear_account(db: &impl ConnectionTrait, keys: &ThrottleKeys) -> AppResult<()> {
    login_attempt::Entity::delete_many()
        .filter(
            login_attempt::Column::ThrottleKey.is_in([keys.account.as_str(), keys.client.as_str()]),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_clients_delay_doubles_after_its_free_failures_up_to_the_window() {
        let config = ThrottleConfig::default();
        let free = config.free_failures_per_client;
        assert_eq!(client_delay(free - 1, &config), Duration::ZERO);
        assert_eq!(client_delay(free, &config), config.first_delay);
        assert_eq!(client_delay(free + 1, &config), config.first_delay * 2);
        assert_eq!(client_delay(free + 3, &config), config.first_delay * 8);
        assert_eq!(client_delay(free + 60, &config), config.window);
    }
}
