//! argon2id password hashing (OWASP parameters: m=19 MiB, t=2, p=1, the crate's defaults),
//! always run off the async runtime.

use std::sync::LazyLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Verified against when the email is unknown, so that case costs the same as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking("partnergraph-no-such-user").expect("hashing a constant cannot fail")
});

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// How many argon2 computations may run at once: all cores but one, at least one. Each
/// takes a core and 19 MiB for tens of milliseconds; unbounded, a burst of logins would take
/// every core (stalling all other requests) and hundreds of megabytes. Beyond the limit,
/// logins queue here instead.
static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Semaphore::new(cores.saturating_sub(1).max(1))
});

/// Runs one argon2 computation on the blocking pool once a hashing slot is free.
async fn with_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let _slot = HASHING_SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

pub async fn hash_password(password: String) -> AppResult<String> {
    with_hashing_slot(move || hash_blocking(&password))
        .await?
        .map_err(AppError::internal)
}

/// `stored` is `None` for an unknown account: the dummy hash is checked and `false` returned.
pub async fn verify_password(password: String, stored: Option<String>) -> AppResult<bool> {
    with_hashing_slot(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&hash).map_err(AppError::internal)?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

/// Why a new password is unacceptable, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    None
}

/// Warms the dummy hash at start-up instead of on the first unknown-email login.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}
