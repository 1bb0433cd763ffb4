//! The value objects a task is made of: title, description, status, priority, version.

use std::fmt;

use crate::text::{LineError, bounded_line, string_value_object, trimmed};

/// A task title: 1..=200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

/// Why a string is not a [`TaskTitle`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskTitleError {
    /// Nothing but whitespace.
    #[error("title must not be empty")]
    Empty,
    /// Longer than [`TaskTitle::MAX_LEN`].
    #[error("title must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Holds a control character.
    #[error("title must not contain control characters")]
    ControlCharacter,
}

string_value_object!(TaskTitle, TaskTitleError);

impl TaskTitle {
    /// The longest title accepted, in characters.
    pub const MAX_LEN: usize = 200;

    /// Trims and validates a title.
    ///
    /// # Errors
    /// [`TaskTitleError`] when it is empty, too long or holds a control character.
    pub fn parse(raw: &str) -> Result<Self, TaskTitleError> {
        bounded_line(raw, Self::MAX_LEN).map(Self).map_err(|e| match e {
            LineError::Empty => TaskTitleError::Empty,
            LineError::TooLong { max, actual } => TaskTitleError::TooLong { max, actual },
            LineError::ControlCharacter => TaskTitleError::ControlCharacter,
        })
    }
}

/// A task description: at most 10,000 characters after trimming. Line breaks and tabs are allowed; other control
/// characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(String);

/// Why a string is not a [`TaskDescription`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskDescriptionError {
    /// Longer than [`TaskDescription::MAX_LEN`].
    #[error("description must be at most {max} characters, got {actual}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// Holds a control character other than a line break or a tab.
    #[error("description must not contain control characters other than line breaks and tabs")]
    ControlCharacter,
}

string_value_object!(TaskDescription, TaskDescriptionError);

impl TaskDescription {
    /// The longest description accepted, in characters.
    pub const MAX_LEN: usize = 10_000;

    /// Trims and validates a description.
    ///
    /// # Errors
    /// [`TaskDescriptionError`] when it is too long or holds a forbidden control character.
    pub fn parse(raw: &str) -> Result<Self, TaskDescriptionError> {
        let (t, len) = trimmed(raw);
        if len > Self::MAX_LEN {
            return Err(TaskDescriptionError::TooLong { max: Self::MAX_LEN, actual: len });
        }
        if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(TaskDescriptionError::ControlCharacter);
        }
        Ok(Self(t.to_owned()))
    }
}

/// Where a task is in its life. A new task is `Pending` unless told otherwise (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskStatus {
    /// Not started.
    #[default]
    Pending,
    /// Being worked on.
    InProgress,
    /// Done; the task has a `completed_at`.
    Completed,
}

/// How urgent a task is. The order is the rank: `Low < Medium < High`. A new task is `Medium` unless told
/// otherwise (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskPriority {
    /// Rank 1.
    Low,
    /// Rank 2.
    #[default]
    Medium,
    /// Rank 3.
    High,
}

/// A status or priority name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownVariant(pub String);

impl TaskStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 3] = [Self::Pending, Self::InProgress, Self::Completed];

    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
        }
    }

    /// Parses the wire and storage name (exact, upper case).
    ///
    /// # Errors
    /// [`UnknownVariant`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, UnknownVariant> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| UnknownVariant(raw.to_owned()))
    }
}

impl TaskPriority {
    /// Every priority, lowest rank first.
    pub const ALL: [Self; 3] = [Self::Low, Self::Medium, Self::High];

    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
        }
    }

    /// The rank used for sorting: 1 (low) to 3 (high).
    #[must_use]
    pub const fn rank(self) -> i16 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }

    /// Parses the wire and storage name (exact, upper case).
    ///
    /// # Errors
    /// [`UnknownVariant`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, UnknownVariant> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw).ok_or_else(|| UnknownVariant(raw.to_owned()))
    }
}

/// A task's version: starts at 1 and grows by 1 on every change. Used for `ETag`/`If-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(i64);

/// A number that cannot be a version (versions start at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a version must be at least 1, got {0}")]
pub struct VersionError(pub i64);

impl Version {
    /// The version of a new task.
    pub const INITIAL: Self = Self(1);

    /// Validates a stored or presented version.
    ///
    /// # Errors
    /// [`VersionError`] when it is below 1.
    pub const fn new(v: i64) -> Result<Self, VersionError> {
        if v >= 1 { Ok(Self(v)) } else { Err(VersionError(v)) }
    }

    /// The version after one more change.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn title_boundaries() {
        for (raw, expected, why) in [
            ("", Err(TaskTitleError::Empty), "empty"),
            ("   \t\n", Err(TaskTitleError::Empty), "whitespace only"),
            ("x", Ok(()), "one character"),
            ("a\u{1b}b", Err(TaskTitleError::ControlCharacter), "escape character"),
        ] {
            assert_eq!(TaskTitle::parse(raw).map(|_| ()), expected, "{why}");
        }
        assert!(TaskTitle::parse(&"ü".repeat(200)).is_ok(), "200 characters");
        assert_eq!(TaskTitle::parse(&"ü".repeat(201)), Err(TaskTitleError::TooLong { max: 200, actual: 201 }));
        assert_eq!(TaskTitle::parse(&format!("  {}  ", "a".repeat(200))).unwrap().as_ref().len(), 200);
    }

    #[test]
    fn description_boundaries() {
        assert!(TaskDescription::parse("").is_ok(), "an empty description is allowed");
        assert!(TaskDescription::parse(&"d".repeat(10_000)).is_ok());
        assert_eq!(
            TaskDescription::parse(&"d".repeat(10_001)),
            Err(TaskDescriptionError::TooLong { max: 10_000, actual: 10_001 })
        );
        assert!(TaskDescription::parse("line one\nline two\ttabbed").is_ok());
        assert_eq!(TaskDescription::parse("bell\u{7}"), Err(TaskDescriptionError::ControlCharacter));
    }

    #[test]
    fn status_and_priority_parse_exact_names_only() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Ok(s));
        }
        for p in TaskPriority::ALL {
            assert_eq!(TaskPriority::parse(p.as_str()), Ok(p));
        }
        assert!(TaskStatus::parse("pending").is_err());
        assert!(TaskPriority::parse("URGENT").is_err());
        assert!(TaskPriority::Low.rank() < TaskPriority::Medium.rank());
        assert!(TaskPriority::Medium.rank() < TaskPriority::High.rank());
    }

    #[test]
    fn versions_start_at_one() {
        assert_eq!(Version::new(0), Err(VersionError(0)));
        assert_eq!(Version::new(1), Ok(Version::INITIAL));
        assert_eq!(Version::INITIAL.next().get(), 2);
    }

    proptest! {
        #[test]
        fn parsed_titles_are_trimmed_and_bounded(raw in "\\PC{0,220}") {
            if let Ok(title) = TaskTitle::parse(&raw) {
                let n = title.as_ref().chars().count();
                prop_assert!((1..=200).contains(&n));
                prop_assert_eq!(title.as_ref(), title.as_ref().trim());
            }
        }
    }
}
