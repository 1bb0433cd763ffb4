//! Batch operations: complete or delete many tasks in one unit of work.

use taskflow_domain::RepoError;
use taskflow_domain::TaskId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::Actor;
use taskflow_domain::query::{BatchAction, BulkOutcome};
use taskflow_domain::task::{Task, TaskChange};

use super::TaskService;
use crate::error::AppError;

/// How often a batch runs before a lost race is reported.
const BATCH_ATTEMPTS: u32 = 3;

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
    /// Completes or deletes every visible task of the batch in one unit of work, with one bulk write, recording
    /// an event per changed task.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when storage is down; nothing is changed then.
    #[tracing::instrument(name = "tasks.batch", skip_all, fields(user_id = %actor.user_id, count = cmd.ids.len()))]
    pub async fn batch(&self, actor: Actor, cmd: BatchCommand) -> Result<BatchResult, AppError> {
        // A unit of work that lost a race to another one (a deadlock or serialization failure) changed nothing
        // and is simply run again; only repeated losses reach the client, as 409.
        let mut attempt = 1;
        let outcome = loop {
            match self.batch_once(actor, &cmd).await {
                Err(RepoError::Conflict) if attempt < BATCH_ATTEMPTS => attempt += 1,
                other => break other?,
            }
        };
        let found: std::collections::HashSet<_> = outcome.found.into_iter().collect();
        let (succeeded, not_found) = cmd.ids.iter().partition(|id| found.contains(id));
        Ok(BatchResult { action: cmd.action, requested: cmd.ids.len(), succeeded, not_found })
    }

    /// One attempt: the bulk write, its events and the commit, in one unit of work.
    async fn batch_once(&self, actor: Actor, cmd: &BatchCommand) -> Result<BulkOutcome, RepoError> {
        let scope = actor.task_scope();
        let tx = self.deps.uow.begin().await?;
        let now = self.deps.clock.now();
        let by = actor.user_id;
        let (outcome, events) = match cmd.action {
            BatchAction::Complete => {
                let outcome = tx.tasks().complete_many(&cmd.ids, scope, now).await?;
                if outcome.previous_status.len() != outcome.changed.len() {
                    return Err(RepoError::unexpected("complete_many did not report every previous status"));
                }
                // One `task.completed` per task completed, naming what completing it changed.
                let events = outcome
                    .changed
                    .iter()
                    .zip(&outcome.previous_status)
                    .filter_map(|(task, from)| {
                        let change = TaskChange::completion(*from, task.completed_at().unwrap_or(now));
                        DomainEvent::changed(self.deps.ids.event_id(), task, change, by, now)
                    })
                    .collect::<Vec<_>>();
                (outcome, events)
            }
            BatchAction::Delete => {
                let outcome = tx.tasks().delete_many(&cmd.ids, scope).await?;
                let events = outcome
                    .changed
                    .iter()
                    .map(|t| DomainEvent::deleted(self.deps.ids.event_id(), t, by, now))
                    .collect();
                (outcome, events)
            }
        };
        tx.outbox().append(&events).await?;
        tx.commit().await?;
        self.deps.read_cache.invalidate(outcome.changed.iter().map(Task::owner)).await;
        Ok(outcome)
    }
}
