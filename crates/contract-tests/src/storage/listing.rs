//! Task listings: every filter, every sort, and the owner summary, checked against the reference semantics of
//! [`TaskFilter::matches`] and [`compare`].

use chrono::{DateTime, Utc};
use taskflow_domain::ids::TaskId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::query::{
    KeysetPosition, Paging, SearchTerm, SortField, SortOrder, TaskFilter, TaskQuery, compare,
};
use taskflow_domain::task::{Task, TaskPriority, TaskStatus};
use taskflow_domain::user::User;

use crate::StoragePorts;
use crate::fixtures::{TaskSpec, at, insert_tasks, stored_user};

/// "Now" for every listing: after some due dates, before others.
#[must_use]
pub fn now() -> DateTime<Utc> {
    at(100)
}

/// Two users and a varied set of tasks: every status and priority, dated and undated, past and future due dates,
/// equal sort values (to exercise the tie on id), and titles holding `%`, `_` and `\`.
pub async fn dataset(ports: &StoragePorts) -> (User, User, Vec<Task>) {
    let ann = stored_user(ports, "ann").await;
    let bob = stored_user(ports, "bob").await;
    let titles = ["Get 50% off", "Get 500 off", "snake_case name", "snakeXcase name", r"back\slash", "backslash"];
    let mut tasks = Vec::new();
    for i in 0..36_i64 {
        let owner = if i % 3 == 0 { bob.id() } else { ann.id() };
        let due = match i % 4 {
            0 => None,
            1 => Some(at(50 + i)),
            2 => Some(at(150 + i)),
            _ => Some(at(100)),
        };
        let mut spec = TaskSpec::new(owner, at(i / 4))
            .title(titles[usize::try_from(i).unwrap_or(0) % titles.len()])
            .status(TaskStatus::ALL[usize::try_from(i).unwrap_or(0) % 3])
            .priority(TaskPriority::ALL[usize::try_from(i / 2).unwrap_or(0) % 3])
            .due(due)
            .updated(at(40 - i / 3));
        if i % 5 == 0 {
            spec = spec.description("Mixed CASE description, 100% literal");
        }
        tasks.push(spec.build());
    }
    insert_tasks(ports, &tasks).await;
    (ann, bob, tasks)
}

/// The reference answer: the ids of `tasks` that match `filter` at [`now`], in listing order.
#[must_use]
pub fn expected(tasks: &[Task], filter: &TaskFilter, sort: SortField, order: SortOrder) -> Vec<TaskId> {
    let mut matching: Vec<&Task> = tasks.iter().filter(|t| filter.matches(t, now())).collect();
    matching.sort_by(|a, b| compare(&KeysetPosition::of(a, sort), &KeysetPosition::of(b, sort), order));
    matching.iter().map(|t| t.id()).collect()
}

/// A listing query at [`now`].
#[must_use]
pub fn query(filter: TaskFilter, sort: SortField, order: SortOrder, paging: Paging) -> TaskQuery {
    TaskQuery { filter, sort, order, paging, now: now() }
}

/// Every matching id, in order, read through offset pages of 100.
///
/// # Panics
/// When the listing fails.
pub async fn listed(ports: &StoragePorts, filter: &TaskFilter, sort: SortField, order: SortOrder) -> Vec<TaskId> {
    let mut ids = Vec::new();
    for page in 1.. {
        let q = query(filter.clone(), sort, order, Paging::Offset { page, limit: 100 });
        let result = ports.tasks.list(&q).await.expect("list");
        let done = result.items.len() < 100;
        ids.extend(result.items.iter().map(|v| v.task.id()));
        if done {
            break;
        }
    }
    ids
}

async fn check(ports: &StoragePorts, tasks: &[Task], filter: TaskFilter, why: &str) {
    let want = expected(tasks, &filter, SortField::CreatedAt, SortOrder::Desc);
    let got = listed(ports, &filter, SortField::CreatedAt, SortOrder::Desc).await;
    assert_eq!(got, want, "{why}");
}

fn search(raw: &str) -> Option<SearchTerm> {
    SearchTerm::parse(raw).expect("valid search term")
}

/// Status and priority lists mean "any of these".
pub async fn list_filters_by_status_and_priority(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for status in TaskStatus::ALL {
        let filter = TaskFilter { statuses: vec![status], ..all.clone() };
        check(&ports, &tasks, filter, &format!("status {status:?}")).await;
    }
    let two = TaskFilter { statuses: vec![TaskStatus::Pending, TaskStatus::Completed], ..all.clone() };
    check(&ports, &tasks, two, "two statuses").await;
    for priority in TaskPriority::ALL {
        let filter = TaskFilter { priorities: vec![priority], ..all.clone() };
        check(&ports, &tasks, filter, &format!("priority {priority:?}")).await;
    }
    let both = TaskFilter {
        statuses: vec![TaskStatus::InProgress],
        priorities: vec![TaskPriority::Low, TaskPriority::High],
        ..all.clone()
    };
    check(&ports, &tasks, both, "status and priorities together").await;
    check(&ports, &tasks, all, "no filter").await;
}

/// Search ignores case, looks in titles and descriptions, and takes `%`, `_` and `\` literally.
pub async fn list_search_is_case_insensitive_and_literal(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for (raw, min_hits) in [
        ("50%", 1),
        ("%", 1),
        ("e_c", 1),
        ("_", 1),
        (r"\", 1),
        (r"k\s", 1),
        ("SNAKE", 2),
        ("mixed case", 1),
        ("100% LITERAL", 1),
        ("nothing like this", 0),
    ] {
        let filter = TaskFilter { search: search(raw), ..all.clone() };
        let want = expected(&tasks, &filter, SortField::CreatedAt, SortOrder::Desc);
        assert!(want.len() >= min_hits, "the dataset has hits for {raw:?}");
        let got = listed(&ports, &filter, SortField::CreatedAt, SortOrder::Desc).await;
        assert_eq!(got, want, "search {raw:?}");
    }
}

/// `due_before`/`due_after` are strict and never match tasks without a due date.
pub async fn list_due_filters_never_match_undated_tasks(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for (before, after, why) in [
        (Some(at(100)), None, "due before now (strict)"),
        (None, Some(at(100)), "due after now (strict)"),
        (Some(at(10_000)), None, "due before far future: every dated task"),
        (None, Some(at(-10_000)), "due after far past: every dated task"),
        (Some(at(180)), Some(at(60)), "a window"),
    ] {
        let filter = TaskFilter { due_before: before, due_after: after, ..all.clone() };
        check(&ports, &tasks, filter.clone(), why).await;
        let got = listed(&ports, &filter, SortField::DueDate, SortOrder::Asc).await;
        let undated: Vec<_> = tasks.iter().filter(|t| t.due_date().is_none()).map(Task::id).collect();
        assert!(got.iter().all(|id| !undated.contains(id)), "{why}: no undated task");
    }
}

/// `overdue=true` is a past due date on an unfinished task; `overdue=false` is everything else.
pub async fn list_filters_overdue_both_ways(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    let overdue = TaskFilter { overdue: Some(true), ..all.clone() };
    assert!(!expected(&tasks, &overdue, SortField::CreatedAt, SortOrder::Desc).is_empty(), "some are overdue");
    check(&ports, &tasks, overdue, "overdue").await;
    check(&ports, &tasks, TaskFilter { overdue: Some(false), ..all.clone() }, "not overdue").await;
    let combined = TaskFilter { overdue: Some(true), statuses: vec![TaskStatus::Pending], ..all };
    check(&ports, &tasks, combined, "overdue and pending").await;
}

/// An owner scope lists that owner's tasks only.
pub async fn list_scope_limits_the_owner(ports: StoragePorts) {
    // Arrange
    let (ann, bob, tasks) = dataset(&ports).await;

    // Act and Assert
    for user in [&ann, &bob] {
        let filter = TaskFilter::scoped(TaskScope::Owner(user.id()));
        check(&ports, &tasks, filter, &format!("scope of {}", user.name())).await;
    }
    let nobody = TaskFilter::scoped(TaskScope::Owner(crate::fixtures::user_id()));
    assert!(listed(&ports, &nobody, SortField::CreatedAt, SortOrder::Desc).await.is_empty(), "unknown owner");
}

/// Every listed task carries its owner's id, name and email.
pub async fn list_items_carry_the_owner_summary(ports: StoragePorts) {
    // Arrange
    let (ann, bob, _) = dataset(&ports).await;

    // Act
    let q = query(
        TaskFilter::scoped(TaskScope::All),
        SortField::Title,
        SortOrder::Asc,
        Paging::Offset { page: 1, limit: 100 },
    );
    let page = ports.tasks.list(&q).await.expect("list");

    // Assert
    assert_eq!(page.total, Some(36), "offset paging reports the total");
    assert_eq!(page.next, None, "offset paging has no cursor");
    for item in &page.items {
        let owner = if item.task.owner() == ann.id() { &ann } else { &bob };
        assert_eq!(item.owner.id, item.task.owner(), "owner id matches the task");
        assert_eq!(&item.owner.name, owner.name(), "owner name");
        assert_eq!(&item.owner.email, owner.email(), "owner email");
    }
}

/// Every sort field, both directions, ties broken on id in the sort direction.
pub async fn list_sorts_by_every_field_in_both_directions_with_ties_on_id(ports: StoragePorts) {
    // Arrange
    let (_, _, tasks) = dataset(&ports).await;
    let all = TaskFilter::scoped(TaskScope::All);

    // Act and Assert
    for sort in SortField::ALL {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let got = listed(&ports, &all, sort, order).await;
            assert_eq!(got, expected(&tasks, &all, sort, order), "sorted by {sort:?} {order:?}");
        }
    }
}
