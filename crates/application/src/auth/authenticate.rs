//! Turning a bearer token into an [`Actor`], refusing the tokens of deleted users.

use taskflow_domain::policy::Actor;

use super::AuthService;
use crate::error::AppError;

impl AuthService {
    /// Checks an access token and returns who presents it. Runs on every request, so it does no I/O: the
    /// token is checked by the [`taskflow_domain::ports::TokenIssuer`] and its user against the in-process set
    /// of [`super::RevokedUsers`].
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for a malformed, tampered or expired token, or one of a deleted user.
    pub fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        let claims = self.deps.tokens.verify_access(token, self.deps.clock.now()).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            AppError::Unauthenticated
        })?;
        if self.deps.revoked_users.contains(claims.user_id) {
            tracing::debug!(user_id = %claims.user_id, "access token of a deleted user refused");
            return Err(AppError::Unauthenticated);
        }
        Ok(Actor { user_id: claims.user_id, role: claims.role })
    }
}
