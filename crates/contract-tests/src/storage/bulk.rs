//! Batches: [`UnitOfWork::read_tasks`](taskflow_domain::ports::UnitOfWork::read_tasks) and
//! [`UnitOfWork::write_tasks`](taskflow_domain::ports::UnitOfWork::write_tasks), which carries out every write with
//! its events if every task is still at the version read, and nothing otherwise.

use std::collections::HashSet;

use taskflow_domain::events::DomainEvent;
use taskflow_domain::ids::{EventId, TaskId};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskWrite;
use taskflow_domain::task::{Task, TaskChange, TaskStatus};
use uuid::Uuid;

use crate::StoragePorts;
use crate::fixtures::{self, TaskSpec, at, insert_tasks, stored_user};

fn ids(tasks: &[Task]) -> HashSet<TaskId> {
    tasks.iter().map(Task::id).collect()
}

fn event_id() -> EventId {
    EventId::from_uuid(Uuid::now_v7())
}

/// `task` completed at `at`, as the batch decides it, with its event.
fn completion(task: &Task, minutes: i64) -> (TaskWrite, DomainEvent) {
    let mut done = task.clone();
    assert!(done.complete(at(minutes)), "an unfinished task");
    let change = TaskChange::completion(task.status(), at(minutes));
    let event = DomainEvent::changed(event_id(), &done, change, task.owner(), at(minutes)).expect("a change");
    (TaskWrite::Update { task: done, expected: task.version() }, event)
}

/// Ids given twice are read once; ids outside the scope or unknown are not read.
pub async fn read_tasks_reads_each_visible_task_once(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let bob = stored_user(&ports, "bob").await;
    let mut mine: Vec<_> = (0..3).map(|i| fixtures::task(ann.id(), at(i))).collect();
    mine[1] = TaskSpec::new(ann.id(), at(1)).status(TaskStatus::InProgress).build();
    let theirs = fixtures::task(bob.id(), at(0));
    insert_tasks(&ports, &mine).await;
    insert_tasks(&ports, std::slice::from_ref(&theirs)).await;
    let unknown = fixtures::task(ann.id(), at(0)).id();
    let request = [mine[0].id(), mine[1].id(), mine[0].id(), theirs.id(), unknown, mine[2].id()];

    // Act
    let read = ports.uow.read_tasks(&request, TaskScope::Owner(ann.id())).await.expect("read");
    let all = ports.uow.read_tasks(&request, TaskScope::All).await.expect("read");

    // Assert
    assert_eq!(read.len(), 3, "ann's, once each");
    let mut read = read;
    read.sort_by_key(Task::id);
    let mut expected = mine.clone();
    expected.sort_by_key(Task::id);
    assert_eq!(read, expected, "as stored");
    assert_eq!(ids(&all), ids(&mine).into_iter().chain([theirs.id()]).collect(), "an admin's scope reads bob's too");
}

/// If any task moved on since it was read, nothing is written and no event appended; read again, the same
/// batch writes every task with its events.
pub async fn write_tasks_writes_all_or_nothing(ports: StoragePorts) {
    // Arrange: three tasks read at version 1; one of them then changes.
    let ann = stored_user(&ports, "ann").await;
    let tasks: Vec<_> = (0..3).map(|i| fixtures::task(ann.id(), at(i))).collect();
    insert_tasks(&ports, &tasks).await;
    let all: Vec<_> = tasks.iter().map(Task::id).collect();
    let read = ports.uow.read_tasks(&all, TaskScope::All).await.expect("read");
    assert_eq!(read.len(), 3);
    let mut moved = tasks[1].clone();
    moved.complete(at(5));
    ports.uow.update_task(&moved, tasks[1].version(), &[]).await.expect("a concurrent change");
    let batch = |tasks: &[Task]| {
        let (first, first_event) = completion(&tasks[0], 10);
        let (second, second_event) = completion(&tasks[2], 10);
        let gone = DomainEvent::deleted(event_id(), &tasks[1], ann.id(), at(10));
        (vec![first, TaskWrite::Delete(tasks[1].clone()), second], vec![first_event, gone, second_event])
    };
    let stored = |id| {
        let tasks = ports.tasks.clone();
        async move { tasks.get(id, TaskScope::All).await.expect("get").map(|v| v.task) }
    };
    let logged = || async {
        let mut logged = HashSet::new();
        for task in &tasks {
            logged.extend(ports.events.history(task.id(), None, 10).await.expect("history").into_iter().map(|e| e.id));
        }
        logged
    };

    // Act
    let (stale_writes, stale_events) = batch(&tasks);
    let stale = ports.uow.write_tasks(&stale_writes, &stale_events).await.expect("write");
    let after_stale = (stored(tasks[0].id()).await, stored(tasks[1].id()).await, logged().await);
    let mut fresh = ports.uow.read_tasks(&all, TaskScope::All).await.expect("read");
    fresh.sort_by_key(|t| all.iter().position(|id| *id == t.id()));
    let (writes, events) = batch(&fresh);
    let written = ports.uow.write_tasks(&writes, &events).await.expect("write");

    // Assert
    assert!(stale.is_empty(), "nothing written: {stale:?}");
    assert_eq!(after_stale, (Some(tasks[0].clone()), Some(moved), HashSet::new()), "no task and no event changed");
    assert_eq!(written.into_iter().collect::<HashSet<_>>(), all.iter().copied().collect(), "all written");
    assert_eq!(stored(tasks[0].id()).await.as_ref(), Some(writes[0].task()), "completed as decided");
    assert_eq!(stored(tasks[1].id()).await, None, "deleted");
    assert_eq!(logged().await, events.iter().map(|e| e.id).collect(), "every event of the batch, once");
}

/// A thousand tasks are read, completed and deleted in a batch each.
pub async fn batches_handle_a_thousand_tasks(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let tasks: Vec<_> = (0..1000).map(|i| fixtures::task(ann.id(), at(i))).collect();
    insert_tasks(&ports, &tasks).await;
    let all: Vec<_> = tasks.iter().map(Task::id).collect();

    // Act
    let read = ports.uow.read_tasks(&all, TaskScope::Owner(ann.id())).await.expect("read");
    let (writes, events): (Vec<_>, Vec<_>) = read.iter().map(|t| completion(t, 2000)).unzip();
    let completed = ports.uow.write_tasks(&writes, &events).await.expect("complete");
    let read_again = ports.uow.read_tasks(&all, TaskScope::All).await.expect("read");
    let deletes: Vec<_> = read_again.iter().cloned().map(TaskWrite::Delete).collect();
    let deleted = ports.uow.write_tasks(&deletes, &[]).await.expect("delete");

    // Assert
    assert_eq!(read.len(), 1000, "all read");
    assert_eq!(completed.len(), 1000, "all completed");
    assert!(read_again.iter().all(|t| t.status() == TaskStatus::Completed), "stored as completed");
    assert_eq!(deleted.len(), 1000, "all deleted");
    let stats = ports.tasks.stats(TaskScope::All, at(0)).await.expect("stats");
    assert_eq!(stats.total, 0, "nothing is left");
}
