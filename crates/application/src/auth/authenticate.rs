//! Turning a bearer token into an [`Actor`], refusing the tokens of deleted users.

use chrono::{DateTime, Utc};
use taskflow_domain::policy::Actor;

use super::AuthService;
use crate::error::AppError;

/// A verified access token: who presents it, and until when it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// The caller.
    pub actor: Actor,
    /// When the token stops being accepted (a long-lived response, such as an event stream, ends then).
    pub expires_at: DateTime<Utc>,
}

impl AuthService {
    /// Checks an access token and returns who presents it. Runs on every request, so it does no I/O: the
    /// token is checked by the [`taskflow_domain::ports::TokenIssuer`] and its user against the in-process set
    /// of [`super::RevokedUsers`].
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for a malformed, tampered or expired token, or one of a deleted user.
    pub fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        self.verify(token).map(|c| c.actor)
    }

    /// As [`Self::authenticate`], with the token's expiry.
    ///
    /// # Errors
    /// As [`Self::authenticate`].
    pub fn verify(&self, token: &str) -> Result<Credentials, AppError> {
        let claims = self.deps.tokens.verify_access(token, self.deps.clock.now()).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            AppError::Unauthenticated
        })?;
        if self.deps.revoked_users.contains(claims.user_id) {
            tracing::debug!(user_id = %claims.user_id, "access token of a deleted user refused");
            return Err(AppError::Unauthenticated);
        }
        Ok(Credentials { actor: Actor { user_id: claims.user_id, role: claims.role }, expires_at: claims.expires_at })
    }
}
