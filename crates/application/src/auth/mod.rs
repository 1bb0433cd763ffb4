//! Authentication use cases: register, login, refresh, logout, me; and checking access tokens, including
//! refusing those of deleted users ([`RevokedUsers`]).

mod authenticate;
mod login;
mod logout;
mod me;
mod no_credentials;
mod refresh;
mod register;
mod revoked;

use chrono::Duration;
use taskflow_domain::FamilyId;
use taskflow_domain::auth::{AccessClaims, RefreshTokenRecord};
use taskflow_domain::policy::Actor;
use taskflow_domain::user::User;

pub use authenticate::Credentials;
pub use no_credentials::NoCredentials;
pub use register::Registration;
pub use revoked::RevokedUsers;

use crate::Deps;
use crate::error::AppError;

/// Token lifetimes. The default is the service's: 15 minutes for access tokens, 7 days for refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    /// How long an access token is accepted (`ACCESS_TOKEN_TTL_SECS`).
    pub access_ttl: Duration,
    /// How long a refresh token is accepted (`REFRESH_TOKEN_TTL_SECS`).
    pub refresh_ttl: Duration,
}

impl AuthSettings {
    /// The service's defaults (`ACCESS_TOKEN_TTL_SECS=900`, `REFRESH_TOKEN_TTL_SECS=604800`).
    pub const DEFAULT: Self = Self { access_ttl: Duration::minutes(15), refresh_ttl: Duration::days(7) };
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a successful register, login or refresh returns.
#[derive(Debug, Clone)]
pub struct Session {
    /// The access token.
    pub access_token: String,
    /// The refresh-token secret, shown to the client once.
    pub refresh_token: String,
    /// The access token's lifetime in seconds.
    pub expires_in: u64,
    /// The user.
    pub user: User,
}

impl Session {
    /// The caller this session authenticates: its user, with their role. In process there is no need to present
    /// the access token again.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor::of(&self.user)
    }
}

/// The authentication use cases.
#[derive(Clone)]
pub struct AuthService {
    deps: Deps,
    settings: AuthSettings,
}

impl AuthService {
    /// A service over `deps`.
    #[must_use]
    pub fn new(deps: Deps, settings: AuthSettings) -> Self {
        Self { deps, settings }
    }

    /// Issues an access token and the next refresh token of `family` for `user`.
    async fn open_session(&self, user: User, family: FamilyId) -> Result<Session, AppError> {
        let now = self.deps.clock.now();
        let claims = AccessClaims {
            user_id: user.id(),
            role: user.role(),
            issued_at: now,
            expires_at: now + self.settings.access_ttl,
        };
        let access_token = self.deps.tokens.issue_access(&claims).map_err(AppError::Unexpected)?;
        let refresh = self.deps.tokens.new_refresh_token();
        let record = RefreshTokenRecord {
            hash: refresh.hash,
            family,
            user_id: user.id(),
            issued_at: now,
            expires_at: now + self.settings.refresh_ttl,
        };
        match self.deps.refresh_tokens.insert(&record).await {
            // The user was deleted between consuming the old token and storing the new one.
            Err(taskflow_domain::RepoError::MissingReference) => return Err(AppError::Unauthenticated),
            other => other?,
        }
        Ok(Session {
            access_token,
            refresh_token: refresh.secret,
            expires_in: u64::try_from(self.settings.access_ttl.num_seconds()).unwrap_or(0),
            user,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
