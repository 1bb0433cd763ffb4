//! Delete a user and their tasks (admins only).

use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;

use super::UserService;
use crate::error::AppError;

impl UserService {
    /// Deletes user `id` with all their tasks, and ends their sessions.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for non-admins; [`AppError::NotFound`] for an unknown user.
    #[tracing::instrument(name = "users.delete", skip_all, fields(user_id = %actor.user_id, target = %id))]
    pub async fn delete_user(&self, actor: Actor, id: UserId) -> Result<(), AppError> {
        actor.may_administer()?;
        let tx = self.deps.uow.begin().await?;
        if !tx.users().delete(id).await? {
            return Err(AppError::NotFound("user"));
        }
        tx.commit().await?;
        self.deps.read_cache.invalidate([id]).await;
        self.deps.refresh_tokens.revoke_user(id).await?;
        tracing::info!(target_user = %id, "user deleted");
        Ok(())
    }
}
