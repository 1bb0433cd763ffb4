//! Authentication facts: access-token claims, refresh tokens and their families, tombstones of deleted users,
//! idempotency keys.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::ids::{FamilyId, UserId};
use crate::user::Role;

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user.
    pub user_id: UserId,
    /// Their role when the token was issued.
    pub role: Role,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// The hash of a refresh token: the only form in which refresh tokens are stored.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(String);

impl RefreshTokenHash {
    /// Wraps a hash computed by a [`crate::ports::TokenIssuer`] or read from storage.
    #[must_use]
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    /// The hash as lower-case hex.
    #[must_use]
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate in logs without making the hash itself usable.
        write!(f, "RefreshTokenHash({}…)", &self.0.get(..8).unwrap_or(""))
    }
}

/// A freshly generated refresh token: the secret for the client and the hash to store.
#[derive(Clone)]
pub struct NewRefreshToken {
    /// The opaque secret, shown to the client once.
    pub secret: String,
    /// Its hash.
    pub hash: RefreshTokenHash,
}

impl fmt::Debug for NewRefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewRefreshToken").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The token's hash.
    pub hash: RefreshTokenHash,
    /// The login it belongs to.
    pub family: FamilyId,
    /// Whose it is.
    pub user_id: UserId,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// The result of presenting a refresh token. Exactly one concurrent presentation of a valid token gets `Consumed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// The token was valid and is now used up; the caller may issue the next token of its family.
    Consumed(RefreshTokenRecord),
    /// The token had been used before: its whole family is now revoked.
    Reused {
        /// The revoked family.
        family: FamilyId,
    },
    /// The token's family was revoked (logout or reuse).
    Revoked,
    /// The token is past its expiry.
    Expired,
    /// No such token.
    Unknown,
}

/// The record that a user was deleted, kept for as long as an access token issued before the deletion could
/// still be presented, so that every instance refuses such tokens (see [`crate::ports::UserTombstones`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserTombstone {
    /// The deleted user.
    pub user_id: UserId,
    /// When the deletion happened.
    pub deleted_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_token_hash_debug_shows_only_a_prefix() {
        let h = RefreshTokenHash::from_hex("0123456789abcdef0123".into());
        assert_eq!(format!("{h:?}"), "RefreshTokenHash(01234567…)");
    }
}
