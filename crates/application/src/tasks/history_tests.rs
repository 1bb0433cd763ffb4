//! A task's history against the in-memory adapters: order, paging, the changes recorded, and who may read it
//! while the task lives and after it is deleted.

use chrono::TimeDelta;
use claims::assert_matches;
use taskflow_domain::TaskId;
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::policy::Actor;
use taskflow_domain::task::{
    ChangeValue, FieldChange, NewTask, TaskChanges, TaskField, TaskPatch, TaskPriority, TaskStatus, TaskTitle,
};

use super::{CreateTask, PageMeta, TaskHistory};
use crate::error::AppError;
use crate::test_support::{World, world};

fn text(s: &str) -> ChangeValue {
    ChangeValue::Text(s.to_owned())
}

async fn create(w: &World, actor: Actor, title: &str) -> TaskId {
    let new = CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None };
    w.tasks.create_task(actor, new).await.unwrap().task.id()
}

/// Renames task `id` `n` times, a minute apart: `n` new versions.
async fn rename(w: &World, actor: Actor, id: TaskId, n: usize) {
    for i in 0..n {
        w.clock.advance(TimeDelta::minutes(1));
        let patch = TaskPatch { title: Some(TaskTitle::parse(&format!("title {i}")).unwrap()), ..TaskPatch::default() };
        w.tasks.update_task(actor, id, patch, None).await.unwrap();
    }
}

async fn first_page(w: &World, actor: Actor, id: TaskId) -> Result<TaskHistory, AppError> {
    w.tasks.task_history(actor, id, None, 100).await
}

fn next_cursor(page: &TaskHistory) -> Option<String> {
    match &page.meta {
        PageMeta::Keyset { next_cursor, .. } => next_cursor.clone(),
        PageMeta::Offset { .. } => panic!("a history is keyset-paged"),
    }
}

/// Every page of `id`'s history, `limit` at a time, following the cursors to the end.
async fn every_page(w: &World, actor: Actor, id: TaskId, limit: u32) -> Vec<Vec<DomainEvent>> {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = w.tasks.task_history(actor, id, cursor.as_deref(), limit).await.unwrap();
        cursor = next_cursor(&page);
        pages.push(page.events);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() <= 50, "the cursors never end");
    }
}

#[tokio::test]
async fn the_history_has_one_event_per_version_oldest_first_with_its_actor() {
    // Arrange: created, renamed twice, completed by an admin
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let admin = w.admin("root@example.com").await;
    let id = create(&w, ann, "Write tests").await;
    rename(&w, ann, id, 2).await;
    w.clock.advance(TimeDelta::minutes(1));
    let done = TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() };
    let task = w.tasks.update_task(admin, id, done, None).await.unwrap().task;

    // Act
    let history = first_page(&w, ann, id).await.unwrap();

    // Assert
    let kinds: Vec<_> = history.events.iter().map(|e| e.kind).collect();
    use TaskEventKind::{Completed, Created, Updated};
    assert_eq!(kinds, [Created, Updated, Updated, Completed]);
    let versions: Vec<_> = history.events.iter().map(|e| e.version().get()).collect();
    assert_eq!(versions, [1, 2, 3, 4], "one event per version, in order");
    assert_eq!(task.version().get(), 4);
    let actors: Vec<_> = history.events.iter().map(|e| e.actor).collect();
    assert_eq!(actors, [Some(ann.user_id), Some(ann.user_id), Some(ann.user_id), Some(admin.user_id)]);
    assert!(history.events.windows(2).all(|p| p[0].occurred_at < p[1].occurred_at), "oldest first");
    assert!(history.events.iter().all(|e| e.task.id() == id), "only this task's events");
    assert_eq!(next_cursor(&history), None);
}

#[tokio::test]
async fn a_patch_of_two_members_records_exactly_those_two_changes() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "Write tests").await;
    let due = w.clock.advance(TimeDelta::days(1));
    let patch = TaskPatch {
        priority: Some(TaskPriority::High),
        due_date: Some(Some(due)),
        title: Some(TaskTitle::parse("Write tests").unwrap()),
        ..TaskPatch::default()
    };

    // Act
    w.tasks.update_task(ann, id, patch, None).await.unwrap();
    let history = first_page(&w, ann, id).await.unwrap();

    // Assert: the restated title is no change; the creation lists every member from null
    assert_eq!(history.events.len(), 2);
    let expected = TaskChanges::new([
        FieldChange { field: TaskField::Priority, from: text("MEDIUM"), to: text("HIGH") },
        FieldChange { field: TaskField::DueDate, from: ChangeValue::Null, to: ChangeValue::Time(due) },
    ]);
    assert_eq!(history.events[1].changes, expected);
    let created = &history.events[0].changes;
    assert_eq!(created.fields(), TaskField::ALL);
    assert!(created.iter().all(|c| c.from == ChangeValue::Null));
    assert_eq!(created.get(TaskField::Title).unwrap().to, text("Write tests"));
}

#[tokio::test]
async fn paging_reaches_the_end_without_gap_or_overlap() {
    // Arrange: 7 events, and 6 on another task to keep apart
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "seven").await;
    let other = create(&w, ann, "other").await;
    rename(&w, ann, id, 6).await;
    rename(&w, ann, other, 5).await;
    let all = first_page(&w, ann, id).await.unwrap().events;

    // Act
    let by_three = every_page(&w, ann, id, 3).await;
    let by_seven = every_page(&w, ann, id, 7).await;

    // Assert: the last page, even when full, says there is no next one
    let sizes: Vec<_> = by_three.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(by_three.concat(), all);
    assert_eq!(by_seven.len(), 1, "seven events fill one page of seven and no cursor follows");
    assert_eq!(all.len(), 7);
    let versions: Vec<_> = all.iter().map(|e| e.version().get()).collect();
    assert_eq!(versions, (1..=7).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_owner_and_admins_read_a_history_and_another_user_gets_not_found() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let admin = w.admin("root@example.com").await;
    let id = create(&w, ann, "ann's").await;

    // Act
    let (owner, other, root) =
        (first_page(&w, ann, id).await, first_page(&w, bob, id).await, first_page(&w, admin, id).await);

    // Assert
    assert_eq!(owner.unwrap().events.len(), 1);
    assert_matches!(other, Err(AppError::NotFound(_)));
    assert_eq!(root.unwrap().events.len(), 1);
}

#[tokio::test]
async fn after_deletion_the_owner_and_admins_still_read_the_history_and_nobody_else() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let admin = w.admin("root@example.com").await;
    let id = create(&w, ann, "short-lived").await;
    rename(&w, ann, id, 1).await;

    // Act
    w.tasks.delete_task(ann, id).await.unwrap();

    // Assert
    assert_matches!(w.tasks.get_task(ann, id).await, Err(AppError::NotFound(_)));
    for (who, actor) in [("owner", ann), ("admin", admin)] {
        let kinds: Vec<_> = first_page(&w, actor, id).await.unwrap().events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [TaskEventKind::Created, TaskEventKind::Updated, TaskEventKind::Deleted], "{who}");
    }
    assert_matches!(first_page(&w, bob, id).await, Err(AppError::NotFound(_)));
    let page = w.tasks.task_history(bob, id, None, 1).await;
    assert_matches!(page, Err(AppError::NotFound(_)), "a small page hides it too");
}

#[tokio::test]
async fn an_unknown_task_has_no_history_even_for_an_admin() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let unknown = TaskId::from_uuid(uuid::Uuid::now_v7());
    assert_matches!(first_page(&w, admin, unknown).await, Err(AppError::NotFound(_)));
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_a_validation_error_on_that_member() {
    // Arrange: a real cursor of another task
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "mine").await;
    let other = create(&w, ann, "other").await;
    rename(&w, ann, other, 2).await;
    let foreign = next_cursor(&w.tasks.task_history(ann, other, None, 1).await.unwrap()).unwrap();

    let cases: [(&str, Option<&str>, u32, &str); 5] = [
        ("a limit of 0", None, 0, "limit"),
        ("a limit of 101", None, 101, "limit"),
        ("an empty cursor", Some(""), 20, "cursor"),
        ("a cursor we did not make", Some("bm90IGEgY3Vyc29y"), 20, "cursor"),
        ("another task's cursor", Some(foreign.as_str()), 20, "cursor"),
    ];
    for (case, cursor, limit, field) in cases {
        // Act
        let result = w.tasks.task_history(ann, id, cursor, limit).await;

        // Assert
        assert_matches!(result, Err(AppError::Validation(ref f)) if f[0].field == field, "{case}");
    }
    assert!(w.tasks.task_history(ann, id, None, 100).await.is_ok(), "100 is allowed");
}
