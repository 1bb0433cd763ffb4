//! Delete a user and their tasks (admins only).

use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;

use super::UserService;
use crate::error::AppError;

impl UserService {
    /// Deletes user `id` with all their tasks, and ends their sessions: their refresh tokens go with them, and a
    /// tombstone written in the same unit of work makes every instance refuse their access tokens (this one at
    /// once, the others within one refresh of [`crate::auth::RevokedUsers`]; ADR 0007).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for non-admins; [`AppError::NotFound`] for an unknown user.
    #[tracing::instrument(name = "users.delete", skip_all, fields(user_id = %actor.user_id, target = %id))]
    pub async fn delete_user(&self, actor: Actor, id: UserId) -> Result<(), AppError> {
        actor.may_administer()?;
        let at = self.deps.clock.now();
        let tx = self.deps.uow.begin().await?;
        if !tx.users().delete(id, at).await? {
            return Err(AppError::NotFound("user"));
        }
        tx.commit().await?;
        // If this future is cancelled before the next line, the refresh brings the tombstone in within a period.
        self.deps.revoked_users.insert(id, at);
        self.deps.read_cache.invalidate([id]).await;
        tracing::info!(target_user = %id, "user deleted");
        Ok(())
    }
}
