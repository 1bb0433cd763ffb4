//! Logout: revoke the refresh token's family. Access tokens lapse at their expiry.

use super::AuthService;
use crate::error::AppError;

impl AuthService {
    /// Revokes the family of `secret`. Unknown tokens are ignored, so logout is idempotent and reveals nothing.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "auth.logout", skip_all)]
    pub async fn logout(&self, secret: &str) -> Result<(), AppError> {
        let hash = self.deps.tokens.hash_refresh_token(secret);
        self.deps.refresh_tokens.revoke_family_of(&hash).await?;
        Ok(())
    }
}
