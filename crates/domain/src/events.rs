//! Domain events: every change to a task is recorded, in the same unit of work as the change.

use chrono::{DateTime, Utc};

use crate::ids::EventId;
use crate::task::Task;

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskEventKind {
    /// The task was created.
    Created,
    /// Any field changed (also recorded alongside `Completed`).
    Updated,
    /// The task became `COMPLETED`.
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

/// One recorded change, carrying the task as it was right after the change (or right before a deletion).
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
}
