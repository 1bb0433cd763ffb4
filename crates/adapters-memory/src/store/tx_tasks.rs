//! Task writes inside an [`InMemoryTransaction`], with a database's checks: owner reference, scope, version.

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::ids::TaskId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskRepository;
use taskflow_domain::task::{Task, Version};

use super::transaction::{InMemoryTransaction, Staged};
use crate::locks::lock;

impl InMemoryTransaction {
    /// The task with `id` if it is inside `scope`, as this unit sees it.
    fn task_in_scope(&self, staged: &Staged, id: TaskId, scope: TaskScope) -> Option<Task> {
        self.effective_task(staged, id).filter(|t| scope.includes(t.owner()))
    }
}

#[async_trait]
impl TaskRepository for InMemoryTransaction {
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        let mut staged = lock(&self.staged);
        if self.effective_task(&staged, task.id()).is_some() {
            return Err(RepoError::Duplicate { constraint: "tasks_pkey".to_owned() });
        }
        if self.effective_user(&staged, task.owner()).is_none() {
            return Err(RepoError::MissingReference);
        }
        staged.tasks.insert(task.id(), Some(task.clone()));
        Ok(())
    }

    async fn find_for_update(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        Ok(self.task_in_scope(&lock(&self.staged), id, scope))
    }

    async fn update(&self, task: &Task, expected: Version) -> Result<(), RepoError> {
        let mut staged = lock(&self.staged);
        let stored = self.effective_task(&staged, task.id()).ok_or(RepoError::Conflict)?;
        if stored.version() != expected {
            return Err(RepoError::Conflict);
        }
        if stored.owner() != task.owner() && self.effective_user(&staged, task.owner()).is_none() {
            return Err(RepoError::MissingReference);
        }
        staged.tasks.insert(task.id(), Some(task.clone()));
        Ok(())
    }

    async fn delete(&self, id: TaskId, scope: TaskScope) -> Result<Option<Task>, RepoError> {
        let mut staged = lock(&self.staged);
        let task = self.task_in_scope(&staged, id, scope);
        if task.is_some() {
            staged.tasks.insert(id, None);
        }
        Ok(task)
    }
}
