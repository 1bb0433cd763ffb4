//! Turning a bearer token into an [`Actor`].

use taskflow_domain::policy::Actor;

use super::AuthService;
use crate::error::AppError;

impl AuthService {
    /// Checks an access token and returns who presents it.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for a malformed, tampered or expired token.
    pub fn authenticate(&self, token: &str) -> Result<Actor, AppError> {
        let claims = self.deps.tokens.verify_access(token, self.deps.clock.now()).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            AppError::Unauthenticated
        })?;
        Ok(Actor { user_id: claims.user_id, role: claims.role })
    }
}
