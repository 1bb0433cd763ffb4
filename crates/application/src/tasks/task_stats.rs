//! Counts over the tasks the caller sees.

use taskflow_domain::UserId;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskStats;

use super::TaskService;
use crate::error::AppError;

impl TaskService {
    /// Counts by status and priority, and overdue, over the caller's visible tasks (or one user's, for admins).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when a non-admin names another user.
    #[tracing::instrument(name = "tasks.stats", skip_all, fields(user_id = %actor.user_id))]
    pub async fn task_stats(&self, actor: Actor, owner: Option<UserId>) -> Result<TaskStats, AppError> {
        let scope = actor.scope_for_owner(owner)?;
        Ok(self.deps.task_reads.stats(scope, self.deps.clock.now()).await?)
    }
}
