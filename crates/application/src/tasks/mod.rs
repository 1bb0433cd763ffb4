//! Task use cases: create, get, update, delete, list, stats, batch operations and a task's history.

mod batch_tasks;
mod create_task;
mod delete_task;
mod get_task;
mod list_tasks;
mod task_history;
mod task_stats;
mod update_task;

pub use batch_tasks::{BatchCommand, BatchResult, MAX_BATCH};
pub use create_task::CreateTask;
pub use list_tasks::{ListTasks, PageMeta, PagingRequest, TaskList};
pub use task_history::{MAX_HISTORY_LIMIT, TaskHistory};

use taskflow_domain::UserId;
use taskflow_domain::query::{OwnerSummary, TaskView};
use taskflow_domain::task::Task;

use crate::Deps;
use crate::error::AppError;

/// The task use cases.
pub struct TaskService {
    deps: Deps,
}

impl TaskService {
    /// A service over `deps`.
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// The owner summary embedded in task responses.
    async fn owner_summary(&self, owner: UserId) -> Result<Option<OwnerSummary>, AppError> {
        Ok(self.deps.user_reads.get(owner).await?.map(|u| OwnerSummary {
            id: u.id(),
            name: u.name().clone(),
            email: u.email().clone(),
        }))
    }

    /// `task` with its owner, after a write.
    async fn view(&self, task: Task) -> Result<TaskView, AppError> {
        // The owner existed inside the unit of work; if they were deleted since, so was the task.
        let owner = self.owner_summary(task.owner()).await?.ok_or(AppError::NotFound("task"))?;
        Ok(TaskView { task, owner })
    }
}

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod tests;
