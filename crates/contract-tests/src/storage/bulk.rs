//! Batches: [`UnitOfWork::read_tasks`](taskflow_domain::ports::UnitOfWork::read_tasks) and
//! [`UnitOfWork::write_tasks`](taskflow_domain::ports::UnitOfWork::write_tasks), which carries out only the writes
//! whose tasks are still at the version read, with the events of those tasks only.

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

/// Writes whose task moved on since it was read are left out, and so are their events; the others are carried out
/// with theirs.
pub async fn write_tasks_carries_out_only_writes_still_at_their_version_with_only_their_events(ports: StoragePorts) {
    // Arrange: three tasks read at version 1; one of them then changes.
    let ann = stored_user(&ports, "ann").await;
    let tasks: Vec<_> = (0..3).map(|i| fixtures::task(ann.id(), at(i))).collect();
    insert_tasks(&ports, &tasks).await;
    let read = ports.uow.read_tasks(&tasks.iter().map(Task::id).collect::<Vec<_>>(), TaskScope::All).await.unwrap();
    assert_eq!(read.len(), 3);
    let mut moved = tasks[1].clone();
    moved.complete(at(5));
    ports.uow.update_task(&moved, tasks[1].version(), &[]).await.expect("a concurrent change");
    let (complete_first, first_event) = completion(&tasks[0], 10);
    let (complete_moved, moved_event) = completion(&tasks[1], 10);
    let deleted_event = DomainEvent::deleted(event_id(), &tasks[2], ann.id(), at(10));

    // Act
    let written = ports
        .uow
        .write_tasks(
            &[complete_first.clone(), complete_moved, TaskWrite::Delete(tasks[2].clone())],
            &[first_event.clone(), moved_event, deleted_event.clone()],
        )
        .await
        .expect("write");

    // Assert
    assert_eq!(written.into_iter().collect::<HashSet<_>>(), HashSet::from([tasks[0].id(), tasks[2].id()]));
    let stored = |id| {
        let tasks = ports.tasks.clone();
        async move { tasks.get(id, TaskScope::All).await.expect("get").map(|v| v.task) }
    };
    assert_eq!(stored(tasks[0].id()).await.as_ref(), Some(complete_first.task()), "completed as decided");
    assert_eq!(stored(tasks[1].id()).await, Some(moved), "the task that moved on keeps its concurrent change");
    assert_eq!(stored(tasks[2].id()).await, None, "deleted");
    let mut logged = Vec::new();
    for task in &tasks {
        logged.extend(ports.events.history(task.id(), None, 10).await.expect("history"));
    }
    let logged: HashSet<EventId> = logged.iter().map(|e| e.id).collect();
    assert_eq!(logged, HashSet::from([first_event.id, deleted_event.id]), "the events of what was written, only");
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
