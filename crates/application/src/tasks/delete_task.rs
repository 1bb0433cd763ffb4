//! Delete a task.

use taskflow_domain::TaskId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;

use super::TaskService;
use crate::error::AppError;

impl TaskService {
    /// Deletes task `id` and records `task.deleted` (with the task as it was last, and no changes).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden task.
    #[tracing::instrument(name = "tasks.delete", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn delete_task(&self, actor: Actor, id: TaskId) -> Result<(), AppError> {
        let tx = self.deps.uow.begin().await?;
        let task = tx.tasks().delete(id, actor.task_scope()).await?.ok_or(AppError::NotFound("task"))?;
        let event = DomainEvent::deleted(self.deps.ids.event_id(), &task, actor.user_id, self.deps.clock.now());
        tx.outbox().append(&[event]).await?;
        tx.commit().await?;
        self.deps.read_cache.invalidate([task.owner()]).await;
        Ok(())
    }
}
