//! The read side's shapes: a whole listing query (filters, sort, paging) and the page it returns.
//!
//! The query is built for a SQL adapter to run in one or two statements. The ordering rules are defined here once
//! ([`compare`], [`SortValue`]) so every adapter, and the contract tests, agree on them:
//! - ties break on the task id, in the same direction as the sort;
//! - `priority` sorts by rank (`LOW < MEDIUM < HIGH`);
//! - `dueDate` keeps tasks without a due date together at the end, whatever the direction.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use crate::ids::{TaskId, UserId};
use crate::policy::TaskScope;
use crate::task::{Task, TaskPriority, TaskStatus};
use crate::user::{EmailAddress, UserName};

/// The field a listing is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortField {
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Due date, tasks without one last.
    DueDate,
    /// Priority rank.
    Priority,
    /// Title, by code point.
    Title,
}

impl SortField {
    /// Every field.
    pub const ALL: [Self; 5] = [Self::CreatedAt, Self::UpdatedAt, Self::DueDate, Self::Priority, Self::Title];

    /// The wire name (`createdAt`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "createdAt",
            Self::UpdatedAt => "updatedAt",
            Self::DueDate => "dueDate",
            Self::Priority => "priority",
            Self::Title => "title",
        }
    }

    /// Parses the wire name.
    ///
    /// # Errors
    /// [`crate::task::UnknownVariant`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, crate::task::UnknownVariant> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw).ok_or_else(|| crate::task::UnknownVariant(raw.to_owned()))
    }
}

/// The sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first (the default).
    #[default]
    Desc,
}

impl SortOrder {
    /// The wire name (`asc`, `desc`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// A case-insensitive substring to look for in titles and descriptions: 1..=200 characters, taken as given (a
/// substring may start or end with a space), with no control characters, always matched as literal text (adapters
/// must escape `%`, `_` and `\`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

/// Why a string is not a [`SearchTerm`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    /// Longer than [`SearchTerm::MAX_LEN`].
    #[error("search must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Holds a control character.
    #[error("search must not contain control characters")]
    ControlCharacter,
}

impl SearchTerm {
    /// The longest term accepted.
    pub const MAX_LEN: usize = 200;

    /// Validates a search term; an empty term means no search (`Ok(None)`).
    ///
    /// # Errors
    /// [`SearchTermError`] when it is too long or holds a control character.
    pub fn parse(raw: &str) -> Result<Option<Self>, SearchTermError> {
        let len = raw.chars().count();
        if len > Self::MAX_LEN {
            return Err(SearchTermError::TooLong { max: Self::MAX_LEN, actual: len });
        }
        if raw.chars().any(char::is_control) {
            return Err(SearchTermError::ControlCharacter);
        }
        Ok((len > 0).then(|| Self(raw.to_owned())))
    }

    /// The term, as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `haystack` contains the term, ignoring case.
    #[must_use]
    pub fn matches(&self, haystack: &str) -> bool {
        haystack.to_lowercase().contains(&self.0.to_lowercase())
    }
}

impl AsRef<str> for SearchTerm {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Which tasks a listing or a count includes. Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFilter {
    /// Whose tasks.
    pub scope: TaskScope,
    /// Any of these statuses.
    pub statuses: Vec<TaskStatus>,
    /// Any of these priorities.
    pub priorities: Vec<TaskPriority>,
    /// Title or description contains this.
    pub search: Option<SearchTerm>,
    /// Due strictly before this (never matches a task without a due date).
    pub due_before: Option<DateTime<Utc>>,
    /// Due strictly after this (never matches a task without a due date).
    pub due_after: Option<DateTime<Utc>>,
    /// `Some(true)`: overdue at `now`; `Some(false)`: not overdue at `now`.
    pub overdue: Option<bool>,
}

impl TaskFilter {
    /// A filter with nothing but a scope.
    #[must_use]
    pub fn scoped(scope: TaskScope) -> Self {
        Self {
            scope,
            statuses: Vec::new(),
            priorities: Vec::new(),
            search: None,
            due_before: None,
            due_after: None,
            overdue: None,
        }
    }

    /// Whether `task` passes the filter at `now` (the reference semantics SQL adapters reproduce).
    #[must_use]
    pub fn matches(&self, task: &Task, now: DateTime<Utc>) -> bool {
        self.scope.includes(task.owner())
            && (self.statuses.is_empty() || self.statuses.contains(&task.status()))
            && (self.priorities.is_empty() || self.priorities.contains(&task.priority()))
            && self.search.as_ref().is_none_or(|s| {
                s.matches(task.title().as_ref()) || task.description().is_some_and(|d| s.matches(d.as_ref()))
            })
            && self.due_before.is_none_or(|b| task.due_date().is_some_and(|d| d < b))
            && self.due_after.is_none_or(|a| task.due_date().is_some_and(|d| d > a))
            && self.overdue.is_none_or(|o| task.is_overdue(now) == o)
    }
}

/// The value of a task's sort field, as stored in a keyset cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// `createdAt` or `updatedAt`.
    Time(DateTime<Utc>),
    /// `dueDate`, which may be absent.
    MaybeTime(Option<DateTime<Utc>>),
    /// `priority`, as its rank.
    Rank(i16),
    /// `title`.
    Text(String),
}

impl SortValue {
    /// The value of `field` for `task`.
    #[must_use]
    pub fn of(task: &Task, field: SortField) -> Self {
        match field {
            SortField::CreatedAt => Self::Time(task.created_at()),
            SortField::UpdatedAt => Self::Time(task.updated_at()),
            SortField::DueDate => Self::MaybeTime(task.due_date()),
            SortField::Priority => Self::Rank(task.priority().rank()),
            SortField::Title => Self::Text(task.title().as_ref().to_owned()),
        }
    }

    /// Whether this value can belong to `field` (a cursor made for another sort does not fit).
    #[must_use]
    pub fn fits(&self, field: SortField) -> bool {
        matches!(
            (self, field),
            (Self::Time(_), SortField::CreatedAt | SortField::UpdatedAt)
                | (Self::MaybeTime(_), SortField::DueDate)
                | (Self::Rank(_), SortField::Priority)
                | (Self::Text(_), SortField::Title)
        )
    }
}

/// A position in a sorted listing: the last item of the previous keyset page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysetPosition {
    /// The sort field's value at the position.
    pub value: SortValue,
    /// The tie-breaking id at the position.
    pub id: TaskId,
}

impl KeysetPosition {
    /// The position of `task` in a listing sorted by `field`.
    #[must_use]
    pub fn of(task: &Task, field: SortField) -> Self {
        Self { value: SortValue::of(task, field), id: task.id() }
    }
}

/// Compares two positions in the listing order: `Less` means `a` comes first.
///
/// Values of different kinds compare as equal (the application never mixes them).
#[must_use]
pub fn compare(a: &KeysetPosition, b: &KeysetPosition, order: SortOrder) -> Ordering {
    let directed = |o: Ordering| if order == SortOrder::Asc { o } else { o.reverse() };
    let by_value = match (&a.value, &b.value) {
        (SortValue::Time(x), SortValue::Time(y)) => directed(x.cmp(y)),
        (SortValue::Rank(x), SortValue::Rank(y)) => directed(x.cmp(y)),
        (SortValue::Text(x), SortValue::Text(y)) => directed(x.cmp(y)),
        // Absent due dates stay together at the end in both directions.
        (SortValue::MaybeTime(x), SortValue::MaybeTime(y)) => match (x, y) {
            (Some(x), Some(y)) => directed(x.cmp(y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        _ => Ordering::Equal,
    };
    by_value.then_with(|| directed(a.id.cmp(&b.id)))
}

/// How a listing is paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// Numbered pages with a total count.
    Offset {
        /// 1-based page number.
        page: u32,
        /// Items per page (1..=100).
        limit: u32,
    },
    /// Keyset pages: the items strictly after `after` (from the start when `None`), no total.
    Keyset {
        /// Where the previous page ended.
        after: Option<KeysetPosition>,
        /// Items per page (1..=100).
        limit: u32,
    },
}

impl Paging {
    /// The page size.
    #[must_use]
    pub const fn limit(&self) -> u32 {
        match self {
            Self::Offset { limit, .. } | Self::Keyset { limit, .. } => *limit,
        }
    }
}

/// A whole listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// Sorted by.
    pub sort: SortField,
    /// In which direction.
    pub order: SortOrder,
    /// Which page.
    pub paging: Paging,
    /// "Now", for `overdue`.
    pub now: DateTime<Utc>,
}

/// The owner summary embedded in every task read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSummary {
    /// The owner's id.
    pub id: UserId,
    /// Their name.
    pub name: UserName,
    /// Their email.
    pub email: EmailAddress,
}

impl OwnerSummary {
    /// The summary of `user`.
    #[must_use]
    pub fn of(user: &crate::user::User) -> Self {
        Self { id: user.id(), name: user.name().clone(), email: user.email().clone() }
    }
}

/// A task as read, with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    /// The task.
    pub task: Task,
    /// Its owner.
    pub owner: OwnerSummary,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    /// The items, in listing order.
    pub items: Vec<TaskView>,
    /// How many tasks match the filter (offset paging only).
    pub total: Option<u64>,
    /// Where the next keyset page starts, or `None` on the last page (keyset paging only).
    pub next: Option<KeysetPosition>,
}

/// Counts over the tasks a caller sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskStats {
    /// All tasks.
    pub total: u64,
    /// Tasks overdue at the time of the query.
    pub overdue: u64,
    /// Per status.
    pub by_status: StatusCounts,
    /// Per priority.
    pub by_priority: PriorityCounts,
}

/// A count per [`TaskStatus`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// `PENDING` tasks.
    pub pending: u64,
    /// `IN_PROGRESS` tasks.
    pub in_progress: u64,
    /// `COMPLETED` tasks.
    pub completed: u64,
}

impl StatusCounts {
    /// The count of `status`.
    #[must_use]
    pub const fn of(&self, status: TaskStatus) -> u64 {
        match status {
            TaskStatus::Pending => self.pending,
            TaskStatus::InProgress => self.in_progress,
            TaskStatus::Completed => self.completed,
        }
    }

    /// Counts one more task of `status`.
    pub fn count(&mut self, status: TaskStatus) {
        match status {
            TaskStatus::Pending => self.pending += 1,
            TaskStatus::InProgress => self.in_progress += 1,
            TaskStatus::Completed => self.completed += 1,
        }
    }
}

/// A count per [`TaskPriority`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriorityCounts {
    /// `LOW` tasks.
    pub low: u64,
    /// `MEDIUM` tasks.
    pub medium: u64,
    /// `HIGH` tasks.
    pub high: u64,
}

impl PriorityCounts {
    /// The count of `priority`.
    #[must_use]
    pub const fn of(&self, priority: TaskPriority) -> u64 {
        match priority {
            TaskPriority::Low => self.low,
            TaskPriority::Medium => self.medium,
            TaskPriority::High => self.high,
        }
    }

    /// Counts one more task of `priority`.
    pub fn count(&mut self, priority: TaskPriority) {
        match priority {
            TaskPriority::Low => self.low += 1,
            TaskPriority::Medium => self.medium += 1,
            TaskPriority::High => self.high += 1,
        }
    }
}

/// A numbered page request (for user listings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page (1..=100).
    pub limit: u32,
}

impl PageRequest {
    /// How many items to skip.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        (self.page.saturating_sub(1) as u64) * self.limit as u64
    }
}

/// What batch operations the API offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// Mark every visible task completed.
    Complete,
    /// Delete every visible task.
    Delete,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn pos(value: SortValue, id: u128) -> KeysetPosition {
        KeysetPosition { value, id: TaskId::from_uuid(Uuid::from_u128(id)) }
    }

    #[test]
    fn ties_break_on_id_in_the_sort_direction() {
        let a = pos(SortValue::Rank(2), 1);
        let b = pos(SortValue::Rank(2), 2);
        assert_eq!(compare(&a, &b, SortOrder::Asc), Ordering::Less);
        assert_eq!(compare(&a, &b, SortOrder::Desc), Ordering::Greater);
    }

    #[test]
    fn missing_due_dates_come_last_in_both_directions() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let dated = pos(SortValue::MaybeTime(Some(t)), 9);
        let undated = pos(SortValue::MaybeTime(None), 1);
        assert_eq!(compare(&dated, &undated, SortOrder::Asc), Ordering::Less);
        assert_eq!(compare(&dated, &undated, SortOrder::Desc), Ordering::Less);
    }

    #[test]
    fn search_terms_are_bounded_and_free_of_control_characters() {
        assert_eq!(SearchTerm::parse("").unwrap(), None);
        assert_eq!(SearchTerm::parse(" b").unwrap().unwrap().as_ref(), " b", "a substring may start with a space");
        assert!(SearchTerm::parse(&"s".repeat(200)).unwrap().is_some());
        assert_eq!(SearchTerm::parse(&"s".repeat(201)), Err(SearchTermError::TooLong { max: 200, actual: 201 }));
        assert_eq!(SearchTerm::parse("a\u{0}b"), Err(SearchTermError::ControlCharacter), "NUL never reaches SQL");
        let term = SearchTerm::parse("50%_off").unwrap().unwrap();
        assert!(term.matches("Get 50%_OFF today"));
        assert!(!term.matches("Get 50 percent off"), "% is literal text, not a pattern");
    }

    #[test]
    fn a_sort_value_fits_only_its_field() {
        assert!(SortValue::Rank(1).fits(SortField::Priority));
        assert!(!SortValue::Rank(1).fits(SortField::Title));
        assert!(SortValue::Time(Utc::now()).fits(SortField::UpdatedAt));
        assert!(!SortValue::MaybeTime(None).fits(SortField::CreatedAt));
    }

    #[test]
    fn page_offsets() {
        assert_eq!(PageRequest { page: 1, limit: 20 }.offset(), 0);
        assert_eq!(PageRequest { page: 3, limit: 20 }.offset(), 40);
    }
}
