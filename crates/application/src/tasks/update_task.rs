//! Update a task, optionally guarded by `If-Match`.

use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskView;
use taskflow_domain::task::{TaskPatch, Version};

use super::{TaskService, WRITE_ATTEMPTS};
use crate::error::AppError;

impl TaskService {
    /// Applies `patch` to task `id`. With `if_match`, the change happens only if the task is still at that
    /// version. Records one event by the caller: `task.completed` when the change makes the task completed,
    /// `task.updated` otherwise. A patch that only restates current values changes nothing: no new version, no
    /// event, and the task is returned as it is.
    ///
    /// # Errors
    /// [`AppError::Validation`] for an empty patch; [`AppError::NotFound`] for an unknown or hidden task;
    /// [`AppError::PreconditionFailed`] when `if_match` is stale.
    #[tracing::instrument(name = "tasks.update", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn update_task(
        &self,
        actor: Actor,
        id: TaskId,
        patch: TaskPatch,
        if_match: Option<Version>,
    ) -> Result<TaskView, AppError> {
        if patch.is_empty() {
            return Err(AppError::invalid("body", "name at least one field to change"));
        }
        let scope = actor.task_scope();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let TaskView { mut task, owner } =
                self.deps.uow.read_task(id, scope).await?.ok_or(AppError::NotFound("task"))?;
            let expected = task.version();
            if if_match.is_some_and(|v| v != expected) {
                return Err(AppError::PreconditionFailed { current: expected });
            }
            let now = self.deps.clock.now();
            let change = task.apply(patch.clone(), now);
            let Some(event) = DomainEvent::changed(self.deps.ids.event_id(), &task, change, actor.user_id, now) else {
                // Nothing changes: nothing is written, and the version stays.
                return Ok(TaskView { task, owner });
            };
            // Written only if the task is still at the version read: no lock is held between the two.
            match self.deps.uow.update_task(&task, expected, &[event]).await {
                Ok(()) => {
                    self.deps.read_cache.invalidate([task.owner()]).await;
                    return Ok(TaskView { task, owner });
                }
                // Someone else changed it first: the client's If-Match is stale now.
                Err(RepoError::Conflict) if if_match.is_some() => {
                    return Err(AppError::PreconditionFailed { current: expected.next() });
                }
                // Without If-Match, the change applies to whatever the task became: read it again.
                Err(RepoError::Conflict) if attempt < WRITE_ATTEMPTS => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
}
