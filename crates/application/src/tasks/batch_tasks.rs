//! Batch operations: complete or delete many tasks as one unit, each with its event, in two statements (read, then
//! a write carried out only if no task moved on).

use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::ports::TaskWrite;
use taskflow_domain::query::BatchAction;
use taskflow_domain::task::{Task, TaskChange};

use super::{TaskService, WRITE_ATTEMPTS};
use crate::error::AppError;

/// The most ids one batch may name.
pub const MAX_BATCH: usize = 1000;

/// A validated batch request: 1..=1000 distinct ids, in request order.
#[derive(Debug, Clone)]
pub struct BatchCommand {
    ids: Vec<TaskId>,
    action: BatchAction,
}

impl BatchCommand {
    /// Validates the id list; duplicates count once.
    ///
    /// # Errors
    /// [`AppError::Validation`] (`tasks`) for an empty list or more than [`MAX_BATCH`] ids.
    pub fn new(ids: Vec<TaskId>, action: BatchAction) -> Result<Self, AppError> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(AppError::invalid("tasks", format!("must name 1 to {MAX_BATCH} task ids")));
        }
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let ids = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        Ok(Self { ids, action })
    }
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchResult {
    /// The action.
    pub action: BatchAction,
    /// How many distinct ids were named.
    pub requested: usize,
    /// The ids acted on (visible to the caller), in request order.
    pub succeeded: Vec<TaskId>,
    /// The ids not found (or not visible), in request order.
    pub not_found: Vec<TaskId>,
}

impl TaskService {
    /// Completes or deletes every visible task of the batch, as one unit: one read of the tasks, the domain's
    /// decision for each (its new state and its event), then one write of them all with their events, carried out
    /// only if no task moved on in between; otherwise the batch reads and decides again.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when tasks keep moving on through every attempt (nothing is written then);
    /// [`AppError::Unavailable`] when storage is down.
    #[tracing::instrument(name = "tasks.batch", skip_all, fields(user_id = %actor.user_id, count = cmd.ids.len()))]
    pub async fn batch(&self, actor: Actor, cmd: BatchCommand) -> Result<BatchResult, AppError> {
        let scope = actor.task_scope();
        let mut attempt = 1;
        let (read, writes) = loop {
            let read = self.deps.uow.read_tasks(&cmd.ids, scope).await?;
            let (writes, events) = self.decide(actor, cmd.action, &read);
            if writes.is_empty() || !self.deps.uow.write_tasks(&writes, &events).await?.is_empty() {
                break (read, writes);
            }
            if attempt == WRITE_ATTEMPTS {
                return Err(RepoError::Conflict.into());
            }
            attempt += 1;
        };
        self.deps.read_cache.invalidate(writes.iter().map(|w| w.task().owner())).await;
        let found: std::collections::HashSet<TaskId> = read.iter().map(Task::id).collect();
        let (succeeded, not_found) = cmd.ids.iter().partition(|id| found.contains(id));
        Ok(BatchResult { action: cmd.action, requested: cmd.ids.len(), succeeded, not_found })
    }

    /// What the batch writes for the tasks read, and the event of each write.
    fn decide(&self, actor: Actor, action: BatchAction, read: &[Task]) -> (Vec<TaskWrite>, Vec<DomainEvent>) {
        let now = self.deps.clock.now();
        let by = actor.user_id;
        let mut writes = Vec::with_capacity(read.len());
        let mut events = Vec::with_capacity(read.len());
        for task in read {
            match action {
                BatchAction::Complete => {
                    let (from, expected, mut done) = (task.status(), task.version(), task.clone());
                    if !done.complete(now) {
                        continue;
                    }
                    // One `task.completed` per task completed, naming what completing it changed.
                    let change = TaskChange::completion(from, done.completed_at().unwrap_or(now));
                    events.extend(DomainEvent::changed(self.deps.ids.event_id(), &done, change, by, now));
                    writes.push(TaskWrite::Update { task: done, expected });
                }
                BatchAction::Delete => {
                    events.push(DomainEvent::deleted(self.deps.ids.event_id(), task, by, now));
                    writes.push(TaskWrite::Delete(task.clone()));
                }
            }
        }
        (writes, events)
    }
}
