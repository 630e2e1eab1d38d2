//! Short-lived access tokens: HS256 only, with `exp`, `iss` and `aud` always validated.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Session id: the token is only good while that session is live.
    pub sid: i64,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    pub fn issue(&self, user_id: i64, session_id: i64) -> AppResult<(String, DateTime<Utc>)> {
        let expires_at =
            Utc::now() + chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        let token = self.issue_until(user_id, session_id, expires_at)?;
        Ok((token, expires_at))
    }

    /// A token expiring at `expires_at` (tests use it to mint expired tokens).
    pub fn issue_until(
        &self,
        user_id: i64,
        session_id: i64,
        expires_at: DateTime<Utc>,
    ) -> AppResult<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: Utc::now().timestamp(),
            exp: expires_at.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// Signs arbitrary claims with this key (the caller sets `iss`, `aud` and `exp`).
    pub fn sign<T: Serialize>(&self, claims: &T) -> AppResult<String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(AppError::internal)
    }

    /// Verifies claims signed by `sign` (algorithm, `exp`, `iss`, `aud` checked).
    pub fn open<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        decode::<T>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Any malformed, forged, expired or foreign token is `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AppError::Unauthenticated("invalid or expired access token".into()))
    }
}
