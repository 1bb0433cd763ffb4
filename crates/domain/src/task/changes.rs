//! What a change did to a task: each client-visible member that changed, with its value before and after.
//!
//! Events carry these (`changes` in the task history), so they are computed here, from two task states, and
//! never by an adapter. A [`TaskChanges`] is always in [`TaskField`] order, whatever order it was built in, so
//! that stores which do not keep key order (PostgreSQL's `jsonb`) give back an equal value.

use chrono::{DateTime, Utc};

use super::{Task, UnknownVariant};

/// A client-visible member of a task that a change can touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskField {
    /// `title`.
    Title,
    /// `description`.
    Description,
    /// `status`.
    Status,
    /// `priority`.
    Priority,
    /// `dueDate`.
    DueDate,
    /// `completedAt`.
    CompletedAt,
}

impl TaskField {
    /// Every member, in wire order.
    pub const ALL: [Self; 6] =
        [Self::Title, Self::Description, Self::Status, Self::Priority, Self::DueDate, Self::CompletedAt];

    /// The wire (camelCase) name, such as `dueDate`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Description => "description",
            Self::Status => "status",
            Self::Priority => "priority",
            Self::DueDate => "dueDate",
            Self::CompletedAt => "completedAt",
        }
    }

    /// Parses the wire name.
    ///
    /// # Errors
    /// [`UnknownVariant`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, UnknownVariant> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw).ok_or_else(|| UnknownVariant(raw.to_owned()))
    }

    /// Whether the member holds an instant (`dueDate`, `completedAt`) rather than text.
    #[must_use]
    pub const fn is_time(self) -> bool {
        matches!(self, Self::DueDate | Self::CompletedAt)
    }

    /// The member's value in `task`.
    #[must_use]
    pub fn value_in(self, task: &Task) -> ChangeValue {
        let text = |s: &str| ChangeValue::Text(s.to_owned());
        match self {
            Self::Title => text(task.title().as_ref()),
            Self::Description => task.description().map_or(ChangeValue::Null, |d| text(d.as_ref())),
            Self::Status => text(task.status().as_str()),
            Self::Priority => text(task.priority().as_str()),
            Self::DueDate => task.due_date().map_or(ChangeValue::Null, ChangeValue::Time),
            Self::CompletedAt => task.completed_at().map_or(ChangeValue::Null, ChangeValue::Time),
        }
    }
}

/// One side of a [`FieldChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeValue {
    /// No value (an unset description, due date or completion time; every `from` of a creation).
    Null,
    /// A text value: a title, a description, or a status or priority by its wire name.
    Text(String),
    /// An instant.
    Time(DateTime<Utc>),
}

/// One member that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Which member.
    pub field: TaskField,
    /// Its value before.
    pub from: ChangeValue,
    /// Its value after.
    pub to: ChangeValue,
}

/// The members a change touched, at most one entry per member, always in [`TaskField`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges(Vec<FieldChange>);

impl TaskChanges {
    /// No change at all (what a deletion or an overdue notice carries).
    #[must_use]
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// Builds from any order; when a member is named twice the last entry wins.
    #[must_use]
    pub fn new(changes: impl IntoIterator<Item = FieldChange>) -> Self {
        let mut all: Vec<FieldChange> = Vec::new();
        for change in changes {
            all.retain(|c| c.field != change.field);
            all.push(change);
        }
        all.sort_by_key(|c| c.field);
        Self(all)
    }

    /// Every member of `before` whose value differs in `after`.
    #[must_use]
    pub fn between(before: &Task, after: &Task) -> Self {
        Self(
            TaskField::ALL
                .into_iter()
                .filter_map(|field| {
                    let (from, to) = (field.value_in(before), field.value_in(after));
                    (from != to).then_some(FieldChange { field, from, to })
                })
                .collect(),
        )
    }

    /// A creation: every member, `from` null, `to` the new value (null where unset).
    #[must_use]
    pub fn created(task: &Task) -> Self {
        Self(
            TaskField::ALL
                .into_iter()
                .map(|field| FieldChange { field, from: ChangeValue::Null, to: field.value_in(task) })
                .collect(),
        )
    }

    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many members changed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The changes, in [`TaskField`] order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldChange> {
        self.0.iter()
    }

    /// The members that changed, in order.
    #[must_use]
    pub fn fields(&self) -> Vec<TaskField> {
        self.0.iter().map(|c| c.field).collect()
    }

    /// The change of `field`, if it changed.
    #[must_use]
    pub fn get(&self, field: TaskField) -> Option<&FieldChange> {
        self.0.iter().find(|c| c.field == field)
    }
}

impl<'a> IntoIterator for &'a TaskChanges {
    type Item = &'a FieldChange;
    type IntoIter = std::slice::Iter<'a, FieldChange>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Task {
    /// What changed from `before` to `after` (see [`TaskChanges::between`]).
    #[must_use]
    pub fn diff(before: &Self, after: &Self) -> TaskChanges {
        TaskChanges::between(before, after)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::ids::{TaskId, UserId};
    use crate::task::{NewTask, TaskDescription, TaskPatch, TaskPriority, TaskStatus, TaskTitle};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
    }

    fn task() -> Task {
        let id = TaskId::from_uuid(Uuid::now_v7());
        Task::new(NewTask::new(TaskTitle::parse("Write tests").unwrap()), UserId::from_uuid(Uuid::nil()), id, t0())
    }

    fn text(s: &str) -> ChangeValue {
        ChangeValue::Text(s.to_owned())
    }

    #[test]
    fn field_names_are_the_camel_case_wire_names_and_parse_back() {
        let names: Vec<_> = TaskField::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["title", "description", "status", "priority", "dueDate", "completedAt"]);
        for field in TaskField::ALL {
            assert_eq!(TaskField::parse(field.as_str()), Ok(field));
        }
        assert!(TaskField::parse("version").is_err());
    }

    #[test]
    fn a_creation_lists_every_member_from_null_with_null_where_unset() {
        let changes = TaskChanges::created(&task());
        assert_eq!(changes.fields(), TaskField::ALL);
        assert!(changes.iter().all(|c| c.from == ChangeValue::Null));
        assert_eq!(changes.get(TaskField::Title).unwrap().to, text("Write tests"));
        assert_eq!(changes.get(TaskField::Status).unwrap().to, text("PENDING"));
        assert_eq!(changes.get(TaskField::Priority).unwrap().to, text("MEDIUM"));
        assert_eq!(changes.get(TaskField::Description).unwrap().to, ChangeValue::Null);
        assert_eq!(changes.get(TaskField::DueDate).unwrap().to, ChangeValue::Null);
    }

    #[test]
    fn a_patch_of_two_members_lists_exactly_those_two_in_field_order() {
        let before = task();
        let mut after = before.clone();
        let change = after.apply(
            TaskPatch {
                due_date: Some(Some(t0())),
                priority: Some(TaskPriority::High),
                title: Some(TaskTitle::parse("Write tests").unwrap()),
                ..TaskPatch::default()
            },
            t0(),
        );
        assert_eq!(change.changes.fields(), [TaskField::Priority, TaskField::DueDate], "the title was restated");
        assert_eq!(change.changes.get(TaskField::Priority).unwrap().from, text("MEDIUM"));
        assert_eq!(change.changes.get(TaskField::DueDate).unwrap().to, ChangeValue::Time(t0()));
        assert_eq!(Task::diff(&before, &after), change.changes);
    }

    #[test]
    fn completing_changes_status_and_completed_at_and_reopening_clears_it() {
        let mut task = task();
        let done = task.apply(TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() }, t0());
        assert!(done.completed);
        assert_eq!(done.changes, crate::task::TaskChange::completion(TaskStatus::Pending, t0()).changes);
        let reopened = task.apply(TaskPatch { status: Some(TaskStatus::InProgress), ..TaskPatch::default() }, t0());
        assert!(!reopened.completed);
        assert_eq!(reopened.changes.get(TaskField::CompletedAt).unwrap().to, ChangeValue::Null);
        let cleared = task.apply(
            TaskPatch { description: Some(Some(TaskDescription::parse("d").unwrap())), ..TaskPatch::default() },
            t0(),
        );
        assert_eq!(cleared.changes.get(TaskField::Description).unwrap().from, ChangeValue::Null);
    }

    #[test]
    fn changes_keep_field_order_and_one_entry_per_member_whatever_order_they_are_built_in() {
        let change = |field, to: &str| FieldChange { field, from: ChangeValue::Null, to: text(to) };
        let built = TaskChanges::new([
            change(TaskField::Priority, "LOW"),
            change(TaskField::Title, "a"),
            change(TaskField::Priority, "HIGH"),
        ]);
        assert_eq!(built.fields(), [TaskField::Title, TaskField::Priority]);
        assert_eq!(built.get(TaskField::Priority).unwrap().to, text("HIGH"), "the last entry wins");
    }
}
