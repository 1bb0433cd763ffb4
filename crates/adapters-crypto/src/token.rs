//! Access tokens as PASETO v4.local (encrypted and authenticated with one symmetric key).

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use pasetors::Local;
use pasetors::claims::Claims;
use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, V4};
use serde_json::json;
use taskflow_domain::UserId;
use taskflow_domain::auth::{AccessClaims, NewRefreshToken, RefreshTokenHash};
use taskflow_domain::error::RepoError;
use taskflow_domain::ports::{TokenError, TokenIssuer};
use taskflow_domain::user::Role;

use crate::random::random_bytes;
use crate::refresh;

/// The `iss` claim of every access token.
pub const ISSUER: &str = "taskflow";
/// The `aud` claim of every access token.
pub const AUDIENCE: &str = "taskflow-api";
/// The length of a v4.local key in bytes.
pub const KEY_LEN: usize = 32;
/// How far in the future `iat`/`nbf` may lie, so that clocks a little apart across instances do not refuse fresh
/// tokens. Expiry gets no leeway.
const CLOCK_SKEW_LEEWAY_SECS: i64 = 30;

/// Why a string is not a usable token key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 64 characters long.
    #[error("the token key must be {expected} hex characters (32 bytes), got {actual} characters")]
    WrongLength {
        /// The required length in hex characters.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// Contains a character that is not a hex digit.
    #[error("the token key must contain only hex digits (0-9, a-f, A-F)")]
    NotHex,
}

/// A [`TokenIssuer`] making PASETO v4.local access tokens and random refresh tokens.
///
/// An access token carries `sub` (the user id), `role` (`user` or `admin`), `iat`, `nbf` (= `iat`), `exp`,
/// `iss` = [`ISSUER`], `aud` = [`AUDIENCE`] and a random `jti`. Times are RFC 3339 in UTC and keep the exact
/// instants of the [`AccessClaims`], so a token round-trips to equal claims.
///
/// Every instance that must accept another's tokens needs the same key. Tokens are never logged.
#[derive(Clone)]
pub struct PasetoTokenIssuer {
    key: SymmetricKey<V4>,
}

impl PasetoTokenIssuer {
    /// An issuer using this 32-byte key.
    ///
    /// # Panics
    /// Never: every 32-byte value is a valid v4.local key.
    #[must_use]
    pub fn from_key_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let key = SymmetricKey::<V4>::from(&bytes).expect("any 32 bytes are a v4.local key");
        Self { key }
    }

    /// An issuer using the key written as 64 hex characters (surrounding whitespace is ignored).
    ///
    /// # Errors
    /// [`KeyError::WrongLength`] unless there are exactly 64 characters, [`KeyError::NotHex`] for a non-hex digit.
    pub fn from_hex(key_hex: &str) -> Result<Self, KeyError> {
        let key_hex = key_hex.trim();
        let expected = KEY_LEN * 2;
        let actual = key_hex.chars().count();
        if actual != expected {
            return Err(KeyError::WrongLength { expected, actual });
        }
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(key_hex, &mut bytes).map_err(|_| KeyError::NotHex)?;
        Ok(Self::from_key_bytes(bytes))
    }

    /// An issuer with a fresh random key from the OS: its tokens die with the process and are not accepted by other
    /// instances. For development and tests.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    #[must_use]
    pub fn ephemeral() -> Self {
        Self::from_key_bytes(random_bytes())
    }

    fn decode(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, Rejection> {
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| Rejection::Malformed)?;
        let trusted = LocalToken::decrypt(&self.key, &untrusted, None, None).map_err(|_| Rejection::NotAuthentic)?;
        let claims = Claims::from_string(trusted.payload()).map_err(|_| Rejection::BadClaims)?;

        if claim_str(&claims, "iss") != Some(ISSUER) || claim_str(&claims, "aud") != Some(AUDIENCE) {
            return Err(Rejection::WrongIssuerOrAudience);
        }
        let user_id: UserId = claim_str(&claims, "sub").and_then(|s| s.parse().ok()).ok_or(Rejection::BadClaims)?;
        let role = claim_str(&claims, "role").and_then(|r| Role::parse(r).ok()).ok_or(Rejection::BadClaims)?;
        let issued_at = claim_time(&claims, "iat").ok_or(Rejection::BadClaims)?;
        let not_before = claim_time(&claims, "nbf").ok_or(Rejection::BadClaims)?;
        let expires_at = claim_time(&claims, "exp").ok_or(Rejection::BadClaims)?;

        let latest_start = now + TimeDelta::seconds(CLOCK_SKEW_LEEWAY_SECS);
        if issued_at > latest_start || not_before > latest_start {
            return Err(Rejection::NotYetValid);
        }
        if now >= expires_at {
            return Err(Rejection::Expired);
        }
        Ok(AccessClaims { user_id, role, issued_at, expires_at })
    }
}

impl fmt::Debug for PasetoTokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasetoTokenIssuer").finish_non_exhaustive()
    }
}

/// Why a token was refused, in more detail than [`TokenError`], for the debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejection {
    Malformed,
    NotAuthentic,
    BadClaims,
    WrongIssuerOrAudience,
    NotYetValid,
    Expired,
}

fn claim_str<'c>(claims: &'c Claims, name: &str) -> Option<&'c str> {
    claims.get_claim(name).and_then(serde_json::Value::as_str)
}

fn claim_time(claims: &Claims, name: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(claim_str(claims, name)?).ok().map(|t| t.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl TokenIssuer for PasetoTokenIssuer {
    fn issue_access(&self, claims: &AccessClaims) -> Result<String, RepoError> {
        let issued_at = rfc3339(claims.issued_at);
        let payload = json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": claims.user_id.to_string(),
            "role": claims.role.as_str(),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": rfc3339(claims.expires_at),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        LocalToken::encrypt(&self.key, payload.to_string().as_bytes(), None, None).map_err(RepoError::unexpected)
    }

    fn verify_access(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        self.decode(token, now).map_err(|rejection| {
            tracing::debug!(?rejection, "access token refused");
            match rejection {
                Rejection::Expired => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })
    }

    fn new_refresh_token(&self) -> NewRefreshToken {
        refresh::new_refresh_token()
    }

    fn hash_refresh_token(&self, secret: &str) -> RefreshTokenHash {
        refresh::hash_refresh_token(secret)
    }

    fn new_webhook_secret(&self) -> taskflow_domain::webhook::WebhookSecret {
        taskflow_domain::webhook::WebhookSecret::from_key(crate::random::random_bytes::<32>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_sub_second_precision_and_use_z() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2026-01-02T03:04:05.123456789Z");
        let whole = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().with_timezone(&Utc);
        assert_eq!(rfc3339(whole), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let issuer = PasetoTokenIssuer::from_key_bytes([0xab; KEY_LEN]);
        let shown = format!("{issuer:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    }
}
