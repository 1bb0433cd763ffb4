//! Logout: revoke the refresh token's family. Access tokens lapse at their expiry (a deleted user's at once).

use super::AuthService;
use crate::error::AppError;

impl AuthService {
    /// Revokes the family of `secret`. Unknown tokens are ignored, so logout is idempotent and reveals nothing.
    ///
    /// Logout needs no access token. When the caller presents one anyway (`access_token`) and it is current but
    /// its user was deleted, the answer is [`AppError::Unauthenticated`], as on every other route (the deleted
    /// user's refresh tokens went with them). An expired or malformed access token is ignored: logging out must
    /// keep working after the access token lapsed.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for a deleted user's access token; [`AppError::Unavailable`] when storage is
    /// down.
    #[tracing::instrument(name = "auth.logout", skip_all)]
    pub async fn logout(&self, secret: &str, access_token: Option<&str>) -> Result<(), AppError> {
        if let Some(token) = access_token
            && let Ok(claims) = self.deps.tokens.verify_access(token, self.deps.clock.now())
            // The set first (no I/O); the user's row then makes it immediate on every instance (logout is rare).
            && (self.deps.revoked_users.contains(claims.user_id)
                || self.deps.user_reads.get(claims.user_id).await?.is_none())
        {
            return Err(AppError::Unauthenticated);
        }
        let hash = self.deps.tokens.hash_refresh_token(secret);
        self.deps.refresh_tokens.revoke_family_of(&hash).await?;
        Ok(())
    }
}
