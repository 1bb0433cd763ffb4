//! The single-task commands' units of work (`UnitOfWork::create_task`, `read_task`, `update_task`, `delete_task`):
//! the write and its events land together or not at all, and a write at a stale version changes nothing.

use taskflow_domain::EventId;
use taskflow_domain::RepoError;
use taskflow_domain::events::{Deletion, TaskEventKind};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::task::{TaskPatch, TaskPriority, TaskStatus};

use crate::StoragePorts;
use crate::fixtures::{self, at, stored_user};
use crate::storage::event;

/// Creating stores the task and its event and says whose it is; for an owner who does not exist, nothing.
pub async fn create_task_stores_the_task_and_its_events_and_names_the_owner(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    let orphan = fixtures::task(fixtures::user_id(), at(0));

    // Act
    let owner = ports.uow.create_task(&task, &[event(TaskEventKind::Created, &task)]).await.expect("create");
    let refused = ports.uow.create_task(&orphan, &[event(TaskEventKind::Created, &orphan)]).await;

    // Assert
    assert_eq!((owner.id, &owner.name, &owner.email), (ann.id(), ann.name(), ann.email()));
    assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get").expect("stored").task, task);
    let pending = ports.outbox.pending(10).await.expect("pending");
    assert_eq!(pending.iter().map(|e| e.task.id()).collect::<Vec<_>>(), [task.id()], "one event, the task's");
    assert!(matches!(refused, Err(RepoError::MissingReference)), "got {refused:?}");
    assert_eq!(ports.tasks.get(orphan.id(), TaskScope::All).await.expect("get"), None);
}

/// Reading for a command sees the committed task within the scope, with its owner.
pub async fn read_task_sees_the_committed_task_within_the_scope(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let task = fixtures::task(ann.id(), at(0));
    ports.uow.create_task(&task, &[event(TaskEventKind::Created, &task)]).await.expect("create");

    // Act
    let mine = ports.uow.read_task(task.id(), TaskScope::Owner(ann.id())).await.expect("read");
    let theirs = ports.uow.read_task(task.id(), TaskScope::Owner(bob.id())).await.expect("read");
    let admin = ports.uow.read_task(task.id(), TaskScope::All).await.expect("read");

    // Assert
    let mine = mine.expect("the owner sees it");
    assert_eq!((mine.task, mine.owner.id), (task.clone(), ann.id()));
    assert_eq!(theirs, None, "another user does not");
    assert!(admin.is_some(), "an admin does");
}

/// An update at the version read is stored with its event; one at a stale version stores neither.
pub async fn update_task_writes_only_at_the_version_read_and_its_events_with_it(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    ports.uow.create_task(&task, &[event(TaskEventKind::Created, &task)]).await.expect("create");
    let _ = ports.outbox.pending(10).await.expect("pending");
    let read = task.version();
    let mut first = task.clone();
    first.apply(TaskPatch { priority: Some(TaskPriority::High), ..TaskPatch::default() }, at(1));
    let mut late = task.clone();
    late.apply(TaskPatch { priority: Some(TaskPriority::Low), ..TaskPatch::default() }, at(2));

    // Act
    ports.uow.update_task(&first, read, &[event(TaskEventKind::Updated, &first)]).await.expect("update");
    let stale = ports.uow.update_task(&late, read, &[event(TaskEventKind::Updated, &late)]).await;

    // Assert
    assert!(matches!(stale, Err(RepoError::Conflict)), "got {stale:?}");
    let stored = ports.tasks.get(task.id(), TaskScope::All).await.expect("get").expect("stored").task;
    assert_eq!(stored, first, "the first write stands");
    let kinds: Vec<_> = ports.outbox.pending(10).await.expect("pending").iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [TaskEventKind::Created, TaskEventKind::Updated], "the stale write recorded no event");
}

/// A delete removes the task within the scope it is given and records the event of the task as it was last (every
/// member, to the microsecond); out of scope, or once gone, it finds nothing and writes nothing.
pub async fn delete_task_deletes_within_its_scope_and_records_the_task_as_it_was_last(ports: StoragePorts) {
    // Arrange: ann's task, changed once, with every member set and a due date to the microsecond
    let (ann, bob) = (stored_user(&ports, "ann").await, stored_user(&ports, "bob").await);
    let task = fixtures::task(ann.id(), at(0));
    ports.uow.create_task(&task, &[event(TaskEventKind::Created, &task)]).await.expect("create");
    let mut changed = task.clone();
    let due = at(90) + chrono::Duration::microseconds(123_457);
    let done = TaskPatch { status: Some(TaskStatus::Completed), due_date: Some(Some(due)), ..TaskPatch::default() };
    changed.apply(done, at(1));
    ports.uow.update_task(&changed, task.version(), &[event(TaskEventKind::Updated, &changed)]).await.expect("update");
    let deletion = Deletion { id: EventId::from_uuid(uuid::Uuid::now_v7()), actor: ann.id(), at: at(2) };

    // Act
    let hidden = ports.uow.delete_task(task.id(), TaskScope::Owner(bob.id()), &deletion).await.expect("delete");
    let still_there = ports.tasks.get(task.id(), TaskScope::All).await.expect("get").is_some();
    let deleted = ports.uow.delete_task(task.id(), TaskScope::Owner(ann.id()), &deletion).await.expect("delete");
    let again = ports.uow.delete_task(task.id(), TaskScope::All, &deletion).await.expect("delete");

    // Assert
    assert_eq!(hidden, None, "another owner's scope finds nothing");
    assert!(still_there, "and deletes nothing");
    assert_eq!(deleted.as_ref(), Some(&changed), "the task as it was last");
    assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "deleted");
    assert_eq!(again, None, "a task deleted already");
    let events = ports.outbox.pending(10).await.expect("pending");
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [TaskEventKind::Created, TaskEventKind::Updated, TaskEventKind::Deleted], "one delete event");
    assert_eq!(events[2], deletion.event(&changed), "the event of the task as deleted");
}
