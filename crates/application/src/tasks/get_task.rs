//! Get one task; another user's task is reported as absent.

use taskflow_domain::TaskId;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskView;

use super::TaskService;
use crate::error::AppError;

impl TaskService {
    /// The task `id`, if the caller may see it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when it does not exist or belongs to someone else and the caller is no admin.
    #[tracing::instrument(name = "tasks.get", skip_all, fields(user_id = %actor.user_id, task_id = %id))]
    pub async fn get_task(&self, actor: Actor, id: TaskId) -> Result<TaskView, AppError> {
        self.deps.task_reads.get(id, actor.task_scope()).await?.ok_or(AppError::NotFound("task"))
    }
}
