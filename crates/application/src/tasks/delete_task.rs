//! Delete a task.

use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskView;
use taskflow_domain::{RepoError, TaskId};

use super::{TaskService, WRITE_ATTEMPTS};
use crate::error::AppError;

impl TaskService {
    /// Deletes task `id` and records `task.deleted` (with the task as it was last, and no changes).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden task.
    #[tracing::instrument(name = "tasks.delete", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn delete_task(&self, actor: Actor, id: TaskId) -> Result<(), AppError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let TaskView { task, .. } =
                self.deps.uow.read_task(id, actor.task_scope()).await?.ok_or(AppError::NotFound("task"))?;
            let event = DomainEvent::deleted(self.deps.ids.event_id(), &task, actor.user_id, self.deps.clock.now());
            // Deleted only if the task is still as read, so the event carries the task as it was last.
            match self.deps.uow.delete_task(&task, &[event]).await {
                Ok(()) => {
                    self.deps.read_cache.invalidate([task.owner()]).await;
                    return Ok(());
                }
                Err(RepoError::Conflict) if attempt < WRITE_ATTEMPTS => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
}
