//! The task use cases against the in-memory adapters.

use std::sync::Arc;

use claims::{assert_matches, assert_ok};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::policy::Actor;
use taskflow_domain::ports::OutboxReader;
use taskflow_domain::query::{BatchAction, SortField, SortOrder, TaskView};
use taskflow_domain::task::{
    ChangeValue, NewTask, TaskDescription, TaskField, TaskPatch, TaskPriority, TaskStatus, TaskTitle, Version,
};
use taskflow_domain::{TaskId, UserId};

use super::{BatchCommand, CreateTask, ListTasks, PageMeta, PagingRequest};
use crate::error::AppError;
use crate::test_support::{DownUnitOfWork, World, with_deps, world};

fn new_task(title: &str) -> CreateTask {
    CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None }
}

fn listing(paging: PagingRequest) -> ListTasks {
    ListTasks {
        owner: None,
        statuses: vec![],
        priorities: vec![],
        search: None,
        due_before: None,
        due_after: None,
        overdue: None,
        sort: SortField::CreatedAt,
        order: SortOrder::Desc,
        paging,
    }
}

async fn create(w: &World, actor: Actor, title: &str) -> TaskView {
    w.tasks.create_task(actor, new_task(title)).await.unwrap()
}

async fn events(w: &World) -> Vec<DomainEvent> {
    w.store.pending(1000).await.unwrap()
}

async fn event_kinds(w: &World) -> Vec<TaskEventKind> {
    events(w).await.into_iter().map(|e| e.kind).collect()
}

fn text(s: &str) -> ChangeValue {
    ChangeValue::Text(s.to_owned())
}

#[tokio::test]
async fn create_applies_defaults_and_records_created() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let view = create(&w, ann, "Write tests").await;
    assert_eq!((view.task.status(), view.task.priority()), (TaskStatus::Pending, TaskPriority::Medium));
    assert_eq!(view.owner.id, ann.user_id);
    assert_eq!(event_kinds(&w).await, vec![TaskEventKind::Created]);
}

#[tokio::test]
async fn creating_for_another_user_needs_admin_and_an_existing_user() {
    let w = world();
    let admin = w.admin("root@example.com").await;
    let (_, ann) = w.user("ann@example.com").await;
    let for_admin = CreateTask { user_id: Some(admin.user_id), ..new_task("x") };
    assert_matches!(w.tasks.create_task(ann, for_admin).await, Err(AppError::Forbidden));
    let for_ann = CreateTask { user_id: Some(ann.user_id), ..new_task("x") };
    assert_eq!(w.tasks.create_task(admin, for_ann).await.unwrap().task.owner(), ann.user_id);
    let for_nobody = CreateTask { user_id: Some(UserId::from_uuid(uuid::Uuid::nil())), ..new_task("x") };
    let err = w.tasks.create_task(admin, for_nobody).await.unwrap_err();
    assert_matches!(err, AppError::Validation(ref fields) if fields[0].field == "userId");
}

#[tokio::test]
async fn another_users_task_is_not_found_and_stays_unchanged() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let task = create(&w, ann, "Ann's").await.task;
    let rename = TaskPatch { title: Some(TaskTitle::parse("Bob was here").unwrap()), ..TaskPatch::default() };
    assert_matches!(w.tasks.get_task(bob, task.id()).await, Err(AppError::NotFound(_)));
    assert_matches!(w.tasks.update_task(bob, task.id(), rename, None).await, Err(AppError::NotFound(_)));
    assert_matches!(w.tasks.delete_task(bob, task.id()).await, Err(AppError::NotFound(_)));
    assert_eq!(w.tasks.get_task(ann, task.id()).await.unwrap().task, task);
}

#[tokio::test]
async fn update_checks_if_match_and_records_completion() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "Ship it").await.task.id();
    let complete = || TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() };
    // Act
    let stale = w.tasks.update_task(ann, id, complete(), Some(Version::new(7).unwrap())).await;
    let done = w.tasks.update_task(ann, id, complete(), Some(Version::INITIAL)).await.unwrap();
    // Assert
    assert_matches!(stale, Err(AppError::PreconditionFailed { current }) if current == Version::INITIAL);
    assert_eq!(done.task.version().get(), 2);
    assert!(done.task.completed_at().is_some());
    assert_eq!(event_kinds(&w).await, vec![TaskEventKind::Created, TaskEventKind::Completed]);
}

#[tokio::test]
async fn a_completing_patch_records_exactly_one_completed_event_by_the_caller() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "Ship it").await.task.id();
    let patch =
        TaskPatch { status: Some(TaskStatus::Completed), priority: Some(TaskPriority::High), ..TaskPatch::default() };
    // Act
    let done = w.tasks.update_task(ann, id, patch, None).await.unwrap();
    // Assert
    let events = events(&w).await;
    assert_eq!(events.len(), 2, "created, then one event for the completing change");
    let completed = &events[1];
    assert_eq!(completed.kind, TaskEventKind::Completed, "completing wins over any other change");
    assert_eq!(completed.actor, Some(ann.user_id));
    assert_eq!(completed.changes.fields(), [TaskField::Status, TaskField::Priority, TaskField::CompletedAt]);
    assert_eq!(
        completed.changes.get(TaskField::CompletedAt).unwrap().to,
        ChangeValue::Time(done.task.completed_at().unwrap())
    );
    assert_eq!(completed.task, done.task);
}

#[tokio::test]
async fn a_patch_of_two_members_lists_exactly_those_two_changes() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "Draft").await.task.id();
    let patch = TaskPatch {
        title: Some(TaskTitle::parse("Final").unwrap()),
        description: Some(Some(TaskDescription::parse("now with words").unwrap())),
        ..TaskPatch::default()
    };
    // Act
    assert_ok!(w.tasks.update_task(ann, id, patch, None).await);
    // Assert
    let events = events(&w).await;
    let updated = events.last().unwrap();
    assert_eq!(updated.kind, TaskEventKind::Updated);
    assert_eq!(updated.changes.fields(), [TaskField::Title, TaskField::Description]);
    let title = updated.changes.get(TaskField::Title).unwrap();
    assert_eq!((&title.from, &title.to), (&text("Draft"), &text("Final")));
    assert_eq!(updated.changes.get(TaskField::Description).unwrap().from, ChangeValue::Null);
}

#[tokio::test]
async fn versions_and_events_match_one_to_one_and_a_patch_that_changes_nothing_records_nothing() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "x").await.task.id();
    let status = |s| TaskPatch { status: Some(s), ..TaskPatch::default() };
    // Act: complete, complete again (no change), reopen, restate the title (no change), delete
    for patch in [
        status(TaskStatus::Completed),
        status(TaskStatus::Completed),
        status(TaskStatus::Pending),
        TaskPatch { title: Some(TaskTitle::parse("x").unwrap()), ..TaskPatch::default() },
    ] {
        assert_ok!(w.tasks.update_task(ann, id, patch, None).await);
    }
    let last = w.tasks.get_task(ann, id).await.unwrap().task;
    assert_ok!(w.tasks.delete_task(ann, id).await);
    // Assert
    let events = events(&w).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    let expected = [TaskEventKind::Created, TaskEventKind::Completed, TaskEventKind::Updated, TaskEventKind::Deleted];
    assert_eq!(kinds, expected, "reopening is an update; no-op patches record nothing");
    let versions: Vec<_> = events.iter().map(|e| e.version().get()).collect();
    assert_eq!(versions, [1, 2, 3, 3], "one version per change event; the deletion carries the task as it was last");
    assert_eq!(last.version().get(), 3);
    assert!(events[3].changes.is_empty(), "a deletion lists no changes");
    assert!(events.iter().all(|e| e.actor == Some(ann.user_id)));
    assert_eq!(events[0].changes.fields(), TaskField::ALL, "a creation lists every member");
}

#[tokio::test]
async fn twenty_racing_updates_with_one_version_let_exactly_one_win() {
    let w = Arc::new(world());
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "Contended").await.task.id();
    let racers = (0..20).map(|i| {
        let w = w.clone();
        tokio::spawn(async move {
            let patch =
                TaskPatch { title: Some(TaskTitle::parse(&format!("racer {i}")).unwrap()), ..TaskPatch::default() };
            w.tasks.update_task(ann, id, patch, Some(Version::INITIAL)).await
        })
    });
    let results: Vec<_> = futures::future::join_all(racers).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, AppError::PreconditionFailed { .. })));
    assert_eq!(w.tasks.get_task(ann, id).await.unwrap().task.version().get(), 2);
}

#[tokio::test]
async fn an_empty_patch_is_invalid() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "x").await.task.id();
    assert_matches!(w.tasks.update_task(ann, id, TaskPatch::default(), None).await, Err(AppError::Validation(_)));
}

#[tokio::test]
async fn delete_records_deleted() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let id = create(&w, ann, "x").await.task.id();
    assert_ok!(w.tasks.delete_task(ann, id).await);
    assert_matches!(w.tasks.get_task(ann, id).await, Err(AppError::NotFound(_)));
    assert_eq!(event_kinds(&w).await, vec![TaskEventKind::Created, TaskEventKind::Deleted]);
}

#[tokio::test]
async fn keyset_listing_walks_everything_once_and_refuses_foreign_cursors() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    for i in 0..7 {
        w.clock.advance(chrono::Duration::seconds(1));
        create(&w, ann, &format!("t{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = w.tasks.list_tasks(ann, listing(PagingRequest::Keyset { cursor, limit: 3 })).await.unwrap();
        seen.extend(page.items.iter().map(|v| v.task.id()));
        let PageMeta::Keyset { next_cursor, .. } = page.meta else { panic!("keyset meta expected") };
        match next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<std::collections::HashSet<_>>().len(), 7, "no task twice");

    let first = w.tasks.list_tasks(ann, listing(PagingRequest::Keyset { cursor: None, limit: 3 })).await.unwrap();
    let PageMeta::Keyset { next_cursor: Some(c), .. } = first.meta else { panic!("a next cursor expected") };
    let other_sort =
        ListTasks { sort: SortField::Title, ..listing(PagingRequest::Keyset { cursor: Some(c), limit: 3 }) };
    assert_matches!(w.tasks.list_tasks(ann, other_sort).await, Err(AppError::Validation(ref f)) if f[0].field == "cursor");
}

#[tokio::test]
async fn offset_listing_reports_totals_and_naming_another_owner_needs_admin() {
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    for i in 0..5 {
        create(&w, ann, &format!("t{i}")).await;
    }
    let page = w.tasks.list_tasks(ann, listing(PagingRequest::Offset { page: 3, limit: 2 })).await.unwrap();
    assert_eq!(page.meta, PageMeta::Offset { page: 3, limit: 2, total: 5, total_pages: 3 });
    assert_eq!(page.items.len(), 1);
    let snoop = ListTasks { owner: Some(ann.user_id), ..listing(PagingRequest::Offset { page: 1, limit: 2 }) };
    assert_matches!(w.tasks.list_tasks(bob, snoop).await, Err(AppError::Forbidden));
    assert_matches!(w.tasks.task_stats(bob, Some(ann.user_id)).await, Err(AppError::Forbidden));
}

#[tokio::test]
async fn batch_counts_duplicates_once_hides_other_users_tasks_and_records_events() {
    // Arrange
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let mine = create(&w, ann, "mine").await.task.id();
    let theirs = create(&w, bob, "theirs").await.task.id();
    let missing = TaskId::from_uuid(uuid::Uuid::nil());
    // Act
    let cmd = BatchCommand::new(vec![mine, theirs, mine, missing], BatchAction::Complete).unwrap();
    let result = w.tasks.batch(ann, cmd).await.unwrap();
    // Assert
    assert_eq!(result.requested, 3);
    assert_eq!(result.succeeded, vec![mine]);
    assert_eq!(result.not_found, vec![theirs, missing]);
    assert_eq!(w.tasks.get_task(bob, theirs).await.unwrap().task.status(), TaskStatus::Pending);
    let kinds = event_kinds(&w).await;
    assert_eq!(kinds.iter().filter(|k| **k == TaskEventKind::Completed).count(), 1);
}

#[tokio::test]
async fn batch_complete_records_one_completed_event_per_task_it_completed() {
    // Arrange: two open tasks (one in progress) and one already completed
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let open = create(&w, ann, "open").await.task.id();
    let started = create(&w, ann, "started").await.task.id();
    let in_progress = TaskPatch { status: Some(TaskStatus::InProgress), ..TaskPatch::default() };
    assert_ok!(w.tasks.update_task(ann, started, in_progress, None).await);
    let done = create(&w, ann, "done").await.task.id();
    let complete = TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() };
    assert_ok!(w.tasks.update_task(ann, done, complete, None).await);
    let before = events(&w).await.len();
    // Act
    let cmd = BatchCommand::new(vec![open, started, done], BatchAction::Complete).unwrap();
    assert_ok!(w.tasks.batch(ann, cmd).await);
    // Assert
    let batch: Vec<_> = events(&w).await.into_iter().skip(before).collect();
    let ids: Vec<_> = batch.iter().map(|e| e.task.id()).collect();
    assert_eq!(ids.len(), 2, "one event per task completed, none for the one already done: {ids:?}");
    assert!(ids.contains(&open) && ids.contains(&started));
    for event in &batch {
        assert_eq!(event.kind, TaskEventKind::Completed);
        assert_eq!(event.actor, Some(ann.user_id));
        assert_eq!(event.changes.fields(), [TaskField::Status, TaskField::CompletedAt]);
        assert_eq!(event.version().get(), if event.task.id() == open { 2 } else { 3 });
    }
    let from_started = batch.iter().find(|e| e.task.id() == started).unwrap();
    assert_eq!(from_started.changes.get(TaskField::Status).unwrap().from, text("IN_PROGRESS"));
}

/// A unit of work whose first batch write comes just after another request changed `moved`.
struct Interfering {
    inner: taskflow_adapters_memory::InMemoryStore,
    moved: std::sync::Mutex<Option<taskflow_domain::task::Task>>,
}

#[async_trait::async_trait]
impl taskflow_domain::ports::UnitOfWork for Interfering {
    async fn begin(&self) -> Result<Box<dyn taskflow_domain::ports::Transaction>, taskflow_domain::RepoError> {
        self.inner.begin().await
    }

    async fn write_tasks(
        &self,
        writes: &[taskflow_domain::ports::TaskWrite],
        events: &[DomainEvent],
    ) -> Result<Vec<TaskId>, taskflow_domain::RepoError> {
        let moved = self.moved.lock().unwrap().take();
        if let Some(task) = moved {
            let mut changed = task.clone();
            let high = TaskPatch { priority: Some(TaskPriority::High), ..TaskPatch::default() };
            changed.apply(high, task.updated_at());
            self.inner.update_task(&changed, task.version(), &[]).await?;
        }
        self.inner.write_tasks(writes, events).await
    }
}

#[tokio::test]
async fn a_batch_decides_again_for_tasks_changed_between_its_read_and_its_write() {
    // Arrange: two tasks; between the batch's read and its write, another request raises one's priority.
    let w = world();
    let (_, ann) = w.user("ann@example.com").await;
    let still = create(&w, ann, "still").await.task.id();
    let moved = create(&w, ann, "moved").await.task;
    let interfering =
        Arc::new(Interfering { inner: w.store.clone(), moved: std::sync::Mutex::new(Some(moved.clone())) });
    let deps = crate::deps::Deps { uow: interfering, ..w.deps.clone() };
    let w = with_deps(w.store.clone(), w.clock.clone(), deps);
    let before = events(&w).await.len();

    // Act
    let cmd = BatchCommand::new(vec![still, moved.id()], BatchAction::Complete).unwrap();
    let result = w.tasks.batch(ann, cmd).await.unwrap();

    // Assert: both completed, the moved one on top of the other change, one event each.
    assert_eq!(result.succeeded, vec![still, moved.id()]);
    let stored = w.tasks.get_task(ann, moved.id()).await.unwrap().task;
    assert_eq!(
        (stored.status(), stored.priority(), stored.version().get()),
        (TaskStatus::Completed, TaskPriority::High, 3)
    );
    let batch: Vec<_> = events(&w).await.into_iter().skip(before).collect();
    let completed: Vec<_> = batch.iter().map(|e| (e.task.id(), e.kind, e.version().get())).collect();
    assert_eq!(completed, vec![(still, TaskEventKind::Completed, 2), (moved.id(), TaskEventKind::Completed, 3)]);
}

#[tokio::test]
async fn batch_sizes_are_bounded() {
    assert_matches!(BatchCommand::new(vec![], BatchAction::Delete), Err(AppError::Validation(_)));
    let ids = (0..1001u128).map(|i| TaskId::from_uuid(uuid::Uuid::from_u128(i))).collect();
    assert_matches!(BatchCommand::new(ids, BatchAction::Delete), Err(AppError::Validation(_)));
}

#[tokio::test]
async fn commands_report_storage_down_as_unavailable_and_change_nothing() {
    let base = world();
    let (_, ann) = base.user("ann@example.com").await;
    let deps = crate::Deps { uow: Arc::new(DownUnitOfWork), ..base.deps.clone() };
    let w = with_deps(base.store.clone(), base.clock.clone(), deps);
    assert_matches!(w.tasks.create_task(ann, new_task("x")).await, Err(AppError::Unavailable(_)));
    let page = w.tasks.list_tasks(ann, listing(PagingRequest::Offset { page: 1, limit: 10 })).await.unwrap();
    assert_eq!(page.items.len(), 0);
}
