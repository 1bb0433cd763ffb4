//! Refresh: consume a refresh token once and rotate it; reuse revokes the family.

use taskflow_domain::auth::ConsumeOutcome;

use super::{AuthService, Session};
use crate::error::AppError;

impl AuthService {
    /// Consumes `secret` and issues the next tokens of its family, with the user's current role.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for an unknown, expired, revoked or reused token (reuse also revokes the
    /// family, so the newest token of it stops working too); [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "auth.refresh", skip_all)]
    pub async fn refresh(&self, secret: &str) -> Result<Session, AppError> {
        let hash = self.deps.tokens.hash_refresh_token(secret);
        let now = self.deps.clock.now();
        let record = match self.deps.refresh_tokens.consume(&hash, now).await? {
            ConsumeOutcome::Consumed(record) => record,
            ConsumeOutcome::Reused { family } => {
                tracing::warn!(family = %family, "refresh token reused: family revoked");
                return Err(AppError::Unauthenticated);
            }
            ConsumeOutcome::Revoked | ConsumeOutcome::Expired | ConsumeOutcome::Unknown => {
                return Err(AppError::Unauthenticated);
            }
        };
        // The user may have been deleted since; their role may have changed, which applies from now on.
        let user = self.deps.user_reads.get(record.user_id).await?.ok_or(AppError::Unauthenticated)?;
        self.open_session(user, record.family).await
    }
}
