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

use crate::Deps;

/// How many times a command that lost a race to a concurrent change of its tasks reads them again and re-applies
/// itself before answering 409 (a command with `If-Match` never retries: the client named the version it meant).
/// A batch's write fails only when another request changed one of its tasks since the batch read it.
const WRITE_ATTEMPTS: usize = 32;

/// The task use cases.
#[derive(Clone)]
pub struct TaskService {
    deps: Deps,
}

impl TaskService {
    /// A service over `deps`.
    #[must_use]
    pub fn new(deps: Deps) -> Self {
        Self { deps }
    }
}

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod tests;
