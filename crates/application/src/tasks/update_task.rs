//! Update a task, optionally guarded by `If-Match`.

use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskView;
use taskflow_domain::task::{TaskPatch, Version};

use super::TaskService;
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
        let tx = self.deps.uow.begin().await?;
        let mut task = tx.tasks().find_for_update(id, actor.task_scope()).await?.ok_or(AppError::NotFound("task"))?;
        let expected = task.version();
        if if_match.is_some_and(|v| v != expected) {
            return Err(AppError::PreconditionFailed { current: expected });
        }
        let now = self.deps.clock.now();
        let change = task.apply(patch, now);
        let Some(event) = DomainEvent::changed(self.deps.ids.event_id(), &task, change, actor.user_id, now) else {
            // Dropping the unit of work releases the row lock; nothing was written.
            drop(tx);
            return self.view(task).await;
        };
        match tx.tasks().update(&task, expected).await {
            // Only possible when the adapter does not lock on find_for_update: someone else won the race.
            Err(RepoError::Conflict) => return Err(AppError::PreconditionFailed { current: expected.next() }),
            other => other?,
        }
        tx.outbox().append(&[event]).await?;
        tx.commit().await?;
        self.deps.read_cache.invalidate([task.owner()]).await;
        self.view(task).await
    }
}
