//! Create a task, for the caller or (admins) for another user.

use taskflow_domain::RepoError;
use taskflow_domain::UserId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::TaskView;
use taskflow_domain::task::{NewTask, Task, TaskTitle};

use super::TaskService;
use crate::error::AppError;

/// A validated request to create a task: the domain's [`NewTask`], and whose task it is to be.
#[derive(Debug, Clone)]
pub struct CreateTask {
    /// The task itself.
    pub task: NewTask,
    /// The owner, when not the caller (admins only).
    pub user_id: Option<UserId>,
}

impl CreateTask {
    /// The caller's own task.
    #[must_use]
    pub fn new(task: NewTask) -> Self {
        Self { task, user_id: None }
    }

    /// The caller's own task with this title, every other member at its default ([`NewTask::new`]).
    ///
    /// # Errors
    /// [`AppError::Validation`] (`title`) when the title is empty, too long or holds a control character.
    pub fn titled(title: &str) -> Result<Self, AppError> {
        let title = TaskTitle::parse(title).map_err(|e| AppError::invalid("title", e))?;
        Ok(Self::new(NewTask::new(title)))
    }

    /// The same task for `owner` (admins only; for anyone else the use case answers [`AppError::Forbidden`]).
    #[must_use]
    pub fn for_user(self, owner: UserId) -> Self {
        Self { user_id: Some(owner), ..self }
    }
}

impl From<NewTask> for CreateTask {
    fn from(task: NewTask) -> Self {
        Self::new(task)
    }
}

impl TaskService {
    /// Creates a task and records `task.created` in the same unit of work.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when a non-admin names another owner; [`AppError::Validation`] (`userId`) when
    /// the owner does not exist.
    #[tracing::instrument(name = "tasks.create", skip_all, fields(user_id = %actor.user_id))]
    pub async fn create_task(&self, actor: Actor, input: CreateTask) -> Result<TaskView, AppError> {
        let owner_id = actor.owner_for_new_task(input.user_id)?;
        // The caller's own account may have been deleted since their token was issued: that is a credentials
        // problem (401), not a bad `userId` they never sent.
        let self_owned = owner_id == actor.user_id;
        let unknown_owner =
            || if self_owned { AppError::Unauthenticated } else { AppError::invalid("userId", "no such user") };
        let now = self.deps.clock.now();
        let task = Task::new(input.task, owner_id, self.deps.ids.task_id(), now);
        let event = DomainEvent::created(self.deps.ids.event_id(), &task, actor.user_id, now);
        // One unit of work, which also says whose the task is: no lookup of the owner beforehand.
        let owner = match self.deps.uow.create_task(&task, &[event]).await {
            Err(RepoError::MissingReference) => return Err(unknown_owner()),
            other => other?,
        };
        self.deps.read_cache.invalidate([owner_id]).await;
        Ok(TaskView { task, owner })
    }
}
