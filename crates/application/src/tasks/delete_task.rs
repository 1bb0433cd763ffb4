//! Delete a task.

use taskflow_domain::TaskId;
use taskflow_domain::events::Deletion;
use taskflow_domain::policy::Actor;

use super::TaskService;
use crate::error::AppError;

impl TaskService {
    /// Deletes task `id` and records `task.deleted` (with the task as it was last, and no changes).
    ///
    /// A delete needs nothing of the task to be decided but who may see it, so it is one step: the storage deletes
    /// the task within the actor's scope and makes the event of what it deleted, with nothing to read first and no
    /// version to race.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown or hidden task.
    #[tracing::instrument(name = "tasks.delete", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn delete_task(&self, actor: Actor, id: TaskId) -> Result<(), AppError> {
        let deletion = Deletion { id: self.deps.ids.event_id(), actor: actor.user_id, at: self.deps.clock.now() };
        let task =
            self.deps.uow.delete_task(id, actor.task_scope(), &deletion).await?.ok_or(AppError::NotFound("task"))?;
        self.deps.read_cache.invalidate([task.owner()]).await;
        Ok(())
    }
}
