//! Domain events: every change to a task is recorded, in the same unit of work as the change.

use chrono::{DateTime, Utc};

use crate::ids::{EventId, UserId};
use crate::task::{Task, TaskChange, TaskChanges, Version};

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskEventKind {
    /// The task was created.
    Created,
    /// Any change that does not make the task `COMPLETED` (reopening one included).
    Updated,
    /// A change that made the task `COMPLETED`, whatever else it changed.
    Completed,
    /// The task was deleted.
    Deleted,
    /// The task's due date passed while it was unfinished.
    Overdue,
}

impl TaskEventKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [Self::Created, Self::Updated, Self::Completed, Self::Deleted, Self::Overdue];

    /// The wire name, such as `task.created`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "task.created",
            Self::Updated => "task.updated",
            Self::Completed => "task.completed",
            Self::Deleted => "task.deleted",
            Self::Overdue => "task.overdue",
        }
    }

    /// Parses the wire name.
    ///
    /// # Errors
    /// [`crate::task::UnknownVariant`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, crate::task::UnknownVariant> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| crate::task::UnknownVariant(raw.to_owned()))
    }
}

/// One recorded change (or overdue notice), carrying the task as it was right after the change (or right before
/// a deletion). A task's versions and its change events match one to one: the event of the change that produced
/// version `n` carries a snapshot at version `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    /// Unique id; webhook deliveries carry it so receivers can drop duplicates.
    pub id: EventId,
    /// What happened.
    pub kind: TaskEventKind,
    /// The task's state.
    pub task: Task,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who made the change; `None` only for system events (`task.overdue`).
    pub actor: Option<UserId>,
    /// The members that changed: every member (from null) for `task.created`, none for `task.deleted` and
    /// `task.overdue`.
    pub changes: TaskChanges,
}

impl DomainEvent {
    /// `task.created` by `actor`: every member of `task` in `changes`.
    #[must_use]
    pub fn created(id: EventId, task: &Task, actor: UserId, at: DateTime<Utc>) -> Self {
        let changes = TaskChanges::created(task);
        Self { id, kind: TaskEventKind::Created, task: task.clone(), occurred_at: at, actor: Some(actor), changes }
    }

    /// The one event of a change by `actor` that left the task as `task`: `task.completed` when `change` made it
    /// `COMPLETED`, `task.updated` otherwise. `None` when `change` changed nothing (no event, no new version).
    #[must_use]
    pub fn changed(id: EventId, task: &Task, change: TaskChange, actor: UserId, at: DateTime<Utc>) -> Option<Self> {
        if change.changes.is_empty() {
            return None;
        }
        let kind = if change.completed { TaskEventKind::Completed } else { TaskEventKind::Updated };
        Some(Self { id, kind, task: task.clone(), occurred_at: at, actor: Some(actor), changes: change.changes })
    }

    /// `task.deleted` by `actor`, with the task as it was last and no changes.
    #[must_use]
    pub fn deleted(id: EventId, task: &Task, actor: UserId, at: DateTime<Utc>) -> Self {
        Deletion { id, actor, at }.event(task)
    }

    /// `task.overdue`, a system event: no actor, no changes, and the task's version is left alone.
    #[must_use]
    pub fn overdue(id: EventId, task: &Task, at: DateTime<Utc>) -> Self {
        let (kind, changes) = (TaskEventKind::Overdue, TaskChanges::none());
        Self { id, kind, task: task.clone(), occurred_at: at, actor: None, changes }
    }

    /// The task's version this event describes (its snapshot's).
    #[must_use]
    pub const fn version(&self) -> Version {
        self.task.version()
    }
}

/// A deletion decided by `actor` at `at`, whose `task.deleted` event (id `id`) is made of the task as the storage
/// deletes it: a delete needs nothing of the task's state to be decided, so the storage that deletes the task in
/// one step completes the event with what it deleted ([`Deletion::event`]), in the same unit of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// The event's id.
    pub id: EventId,
    /// Who deletes the task.
    pub actor: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

impl Deletion {
    /// The event's kind: `task.deleted`.
    pub const KIND: TaskEventKind = TaskEventKind::Deleted;

    /// `task.deleted` of `task`, as it was last: no changes.
    #[must_use]
    pub fn event(&self, task: &Task) -> DomainEvent {
        DomainEvent {
            id: self.id,
            kind: Self::KIND,
            task: task.clone(),
            occurred_at: self.at,
            actor: Some(self.actor),
            changes: TaskChanges::none(),
        }
    }
}
