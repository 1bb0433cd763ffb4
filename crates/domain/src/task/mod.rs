//! Tasks: the `Task` entity and its state changes. Its value objects live in the `values` module and are
//! re-exported here.

mod changes;
mod values;

use chrono::{DateTime, Utc};

pub use changes::{ChangeValue, FieldChange, TaskChanges, TaskField};
pub use values::*;

use crate::ids::{TaskId, UserId};

/// What it takes to create a task, apart from its owner (which the policy decides: see [`Task::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The title.
    pub title: TaskTitle,
    /// An optional description.
    pub description: Option<TaskDescription>,
    /// The initial status (`Pending` unless given).
    pub status: TaskStatus,
    /// The priority (`Medium` unless given).
    pub priority: TaskPriority,
    /// An optional due date.
    pub due_date: Option<DateTime<Utc>>,
}

impl NewTask {
    /// A task with this title and every other member at its default: no description, `Pending`, `Medium`, no
    /// due date. Set the others with struct update syntax (`NewTask { priority, ..NewTask::new(title) }`).
    #[must_use]
    pub fn new(title: TaskTitle) -> Self {
        Self {
            title,
            description: None,
            status: TaskStatus::default(),
            priority: TaskPriority::default(),
            due_date: None,
        }
    }
}

/// A change to a task. For nullable fields, `Some(None)` clears and `None` leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    /// A new title.
    pub title: Option<TaskTitle>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<TaskDescription>>,
    /// A new status.
    pub status: Option<TaskStatus>,
    /// A new priority.
    pub priority: Option<TaskPriority>,
    /// A new due date, or `Some(None)` to clear it.
    pub due_date: Option<Option<DateTime<Utc>>>,
}

impl TaskPatch {
    /// Whether the patch names no field at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// What a state change did, so the caller can record the right event (or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange {
    /// The task moved into `Completed` with this change.
    pub completed: bool,
    /// The members that changed; empty when the patch only restated current values.
    pub changes: TaskChanges,
}

impl TaskChange {
    /// What completing a task that had status `from` at `at` changed: its status and its completion time.
    #[must_use]
    pub fn completion(from: TaskStatus, at: DateTime<Utc>) -> Self {
        let changes = TaskChanges::new([
            FieldChange {
                field: TaskField::Status,
                from: ChangeValue::Text(from.as_str().to_owned()),
                to: ChangeValue::Text(TaskStatus::Completed.as_str().to_owned()),
            },
            FieldChange { field: TaskField::CompletedAt, from: ChangeValue::Null, to: ChangeValue::Time(at) },
        ]);
        Self { completed: true, changes }
    }
}

/// A task's stored state: every member, already validated, with no rule applied.
///
/// This is the one shape adapters convert to and from (a row, a cache entry, an event snapshot): a new member is
/// added here, and each adapter maps it once. [`Task`] keeps the rules that change this state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// The id.
    pub id: TaskId,
    /// The title.
    pub title: TaskTitle,
    /// The description, if any.
    pub description: Option<TaskDescription>,
    /// The status.
    pub status: TaskStatus,
    /// The priority.
    pub priority: TaskPriority,
    /// The due date, if any.
    pub due_date: Option<DateTime<Utc>>,
    /// When the task was completed, while it is `Completed`.
    pub completed_at: Option<DateTime<Utc>>,
    /// Whose task it is.
    pub owner: UserId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The current version.
    pub version: Version,
}

/// A task: its stored state, changed only through the rules below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task(TaskRecord);

impl Task {
    /// Creates a task for `owner` at `now`, at version 1. A task created as `Completed` is completed at `now`.
    #[must_use]
    pub fn new(new: NewTask, owner: UserId, id: TaskId, now: DateTime<Utc>) -> Self {
        Self(TaskRecord {
            id,
            title: new.title,
            description: new.description,
            status: new.status,
            priority: new.priority,
            due_date: new.due_date,
            completed_at: (new.status == TaskStatus::Completed).then_some(now),
            owner,
            created_at: now,
            updated_at: now,
            version: Version::INITIAL,
        })
    }

    /// Rebuilds a stored task without re-running creation rules (for adapters).
    #[must_use]
    pub const fn from_record(record: TaskRecord) -> Self {
        Self(record)
    }

    /// The task's stored state, for adapters to write.
    #[must_use]
    pub const fn record(&self) -> &TaskRecord {
        &self.0
    }

    /// The task's stored state, by value.
    #[must_use]
    pub fn into_record(self) -> TaskRecord {
        self.0
    }

    /// Applies a patch at `now`: sets `completed_at` when the task becomes `Completed` and clears it when it
    /// leaves that status, and bumps the version once if any member changed. A patch that only restates the
    /// current values changes nothing, not even the version (versions and change events match one to one).
    pub fn apply(&mut self, patch: TaskPatch, now: DateTime<Utc>) -> TaskChange {
        let before = self.clone();
        if let Some(title) = patch.title {
            self.0.title = title;
        }
        if let Some(description) = patch.description {
            self.0.description = description;
        }
        if let Some(priority) = patch.priority {
            self.0.priority = priority;
        }
        if let Some(due) = patch.due_date {
            self.0.due_date = due;
        }
        let completed = patch.status.is_some_and(|s| self.set_status(s, now));
        let changes = Self::diff(&before, self);
        if !changes.is_empty() {
            self.touch(now);
        }
        TaskChange { completed, changes }
    }

    /// Marks the task completed at `now`. Returns `false`, changing nothing, when it already was.
    pub fn complete(&mut self, now: DateTime<Utc>) -> bool {
        if self.0.status == TaskStatus::Completed {
            return false;
        }
        self.set_status(TaskStatus::Completed, now);
        self.touch(now);
        true
    }

    /// Whether the task is past its due date and not completed at `now`.
    #[must_use]
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.0.status != TaskStatus::Completed && self.0.due_date.is_some_and(|d| d < now)
    }

    /// Sets the status; returns whether the task became completed.
    fn set_status(&mut self, status: TaskStatus, now: DateTime<Utc>) -> bool {
        let became_completed = status == TaskStatus::Completed && self.0.status != TaskStatus::Completed;
        if became_completed {
            self.0.completed_at = Some(now);
        } else if status != TaskStatus::Completed {
            self.0.completed_at = None;
        }
        self.0.status = status;
        became_completed
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.0.updated_at = now;
        self.0.version = self.0.version.next();
    }

    /// The id.
    #[must_use]
    pub const fn id(&self) -> TaskId {
        self.0.id
    }
    /// The title.
    #[must_use]
    pub const fn title(&self) -> &TaskTitle {
        &self.0.title
    }
    /// The description, if any.
    #[must_use]
    pub const fn description(&self) -> Option<&TaskDescription> {
        self.0.description.as_ref()
    }
    /// The status.
    #[must_use]
    pub const fn status(&self) -> TaskStatus {
        self.0.status
    }
    /// The priority.
    #[must_use]
    pub const fn priority(&self) -> TaskPriority {
        self.0.priority
    }
    /// The due date, if any.
    #[must_use]
    pub const fn due_date(&self) -> Option<DateTime<Utc>> {
        self.0.due_date
    }
    /// When the task was completed, while it is `Completed`.
    #[must_use]
    pub const fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Whose task it is.
    #[must_use]
    pub const fn owner(&self) -> UserId {
        self.0.owner
    }
    /// When it was created.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The current version.
    #[must_use]
    pub const fn version(&self) -> Version {
        self.0.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
    }

    fn new_task(status: TaskStatus) -> Task {
        Task::new(
            NewTask { status, ..NewTask::new(TaskTitle::parse("Write tests").unwrap()) },
            UserId::from_uuid(Uuid::nil()),
            TaskId::from_uuid(Uuid::now_v7()),
            t0(),
        )
    }

    #[test]
    fn a_new_task_defaults_to_pending_and_medium() {
        let new = NewTask::new(TaskTitle::parse("t").unwrap());
        assert_eq!((new.status, new.priority), (TaskStatus::Pending, TaskPriority::Medium));
        assert_eq!((new.description, new.due_date), (None, None));
    }

    #[test]
    fn a_new_task_is_version_one_and_not_completed() {
        let task = new_task(TaskStatus::Pending);
        assert_eq!(task.version(), Version::INITIAL);
        assert_eq!(task.completed_at(), None);
    }

    #[test]
    fn creating_a_completed_task_sets_completed_at() {
        assert_eq!(new_task(TaskStatus::Completed).completed_at(), Some(t0()));
    }

    #[test]
    fn completing_sets_completed_at_and_leaving_clears_it() {
        let mut task = new_task(TaskStatus::Pending);
        let later = t0() + chrono::Duration::minutes(5);
        let change = task.apply(TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() }, later);
        assert!(change.completed);
        assert_eq!(task.completed_at(), Some(later));
        assert_eq!(task.version().get(), 2);

        let change = task.apply(TaskPatch { status: Some(TaskStatus::InProgress), ..TaskPatch::default() }, later);
        assert!(!change.completed);
        assert_eq!(task.completed_at(), None);
        assert_eq!(task.version().get(), 3);
    }

    #[test]
    fn re_completing_keeps_the_first_completion_time() {
        let mut task = new_task(TaskStatus::Completed);
        let change = task.apply(
            TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() },
            t0() + chrono::Duration::hours(1),
        );
        assert!(!change.completed);
        assert!(change.changes.is_empty(), "restating the status is no change");
        assert_eq!(task.completed_at(), Some(t0()));
        assert!(!task.complete(t0() + chrono::Duration::hours(2)), "complete() on a completed task changes nothing");
        assert_eq!(task.version(), Version::INITIAL, "no change, no new version");
    }

    #[test]
    fn patch_can_clear_nullable_fields() {
        let mut task = new_task(TaskStatus::Pending);
        task.apply(
            TaskPatch {
                description: Some(Some(TaskDescription::parse("d").unwrap())),
                due_date: Some(Some(t0())),
                ..TaskPatch::default()
            },
            t0(),
        );
        assert!(task.description().is_some() && task.due_date().is_some());
        task.apply(TaskPatch { description: Some(None), due_date: Some(None), ..TaskPatch::default() }, t0());
        assert!(task.description().is_none() && task.due_date().is_none());
    }

    #[test]
    fn overdue_needs_a_past_due_date_and_an_unfinished_task() {
        let mut task = new_task(TaskStatus::Pending);
        assert!(!task.is_overdue(t0()), "no due date");
        task.apply(TaskPatch { due_date: Some(Some(t0())), ..TaskPatch::default() }, t0());
        assert!(!task.is_overdue(t0()), "due exactly now is not past");
        assert!(task.is_overdue(t0() + chrono::Duration::seconds(1)));
        task.complete(t0());
        assert!(!task.is_overdue(t0() + chrono::Duration::days(1)), "completed tasks are never overdue");
    }

    proptest! {
        #[test]
        fn a_patch_bumps_the_version_by_one_exactly_when_it_changes_something(
            steps in proptest::collection::vec(0usize..3, 1..20),
        ) {
            let mut task = new_task(TaskStatus::Pending);
            for (i, s) in steps.iter().enumerate() {
                let before = task.version();
                let change = task.apply(TaskPatch { status: Some(TaskStatus::ALL[*s]), ..TaskPatch::default() }, t0());
                let expected = if change.changes.is_empty() { before } else { before.next() };
                prop_assert_eq!(task.version(), expected, "step {}", i);
                prop_assert_eq!(task.completed_at().is_some(), task.status() == TaskStatus::Completed);
            }
        }
    }
}
