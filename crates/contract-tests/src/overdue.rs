//! The overdue-scan contract: one `task.overdue` event per task per due date, guaranteed by storage, whatever the
//! timing of concurrent scans.
//!
//! Every case takes fresh [`QueuePorts`].

use chrono::{DateTime, Utc};
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::task::{Task, TaskPatch, TaskStatus};

use crate::QueuePorts;
use crate::fixtures::{TaskSpec, at, insert_tasks, stored_user};

/// The committed `task.overdue` events not relayed yet.
async fn overdue_events(ports: &QueuePorts) -> Vec<DomainEvent> {
    let pending = ports.storage.outbox.pending(1000).await.expect("pending");
    pending.into_iter().filter(|e| e.kind == TaskEventKind::Overdue).collect()
}

async fn task_due(ports: &QueuePorts, due: Option<DateTime<Utc>>, status: TaskStatus) -> Task {
    let owner = stored_user(&ports.storage, "owner").await;
    let task = TaskSpec::new(owner.id(), at(-100)).due(due).status(status).build();
    insert_tasks(&ports.storage, std::slice::from_ref(&task)).await;
    task
}

/// Changes a task's due date (a stored update at `at(minute)`), returning the task as stored.
async fn move_due(ports: &QueuePorts, task: &Task, due: DateTime<Utc>, minute: i64) -> Task {
    let mut changed = task.clone();
    changed.apply(TaskPatch { due_date: Some(Some(due)), ..TaskPatch::default() }, at(minute));
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.tasks().update(&changed, task.version()).await.expect("update");
    tx.commit().await.expect("commit");
    changed
}

/// An overdue task gets one event, carrying the task, at the scan's time; scanning again adds none.
pub async fn an_overdue_task_is_reported_once_per_due_date(ports: QueuePorts) {
    // Arrange
    let task = task_due(&ports, Some(at(-10)), TaskStatus::Pending).await;

    // Act
    let first = ports.overdue.emit_overdue(at(0), 100).await.expect("scan");
    let second = ports.overdue.emit_overdue(at(5), 100).await.expect("scan");

    // Assert
    assert_eq!((first, second), (1, 0), "once");
    let events = overdue_events(&ports).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].task, task, "the event carries the task as it is");
    assert_eq!(events[0].occurred_at, at(0), "at the scan's time");
    assert_eq!(events[0].actor, None, "a system event has no actor");
    assert!(events[0].changes.is_empty(), "and changes nothing");
}

/// Completed tasks, tasks without a due date and tasks due later are never overdue.
pub async fn completed_undated_and_future_tasks_are_not_overdue(ports: QueuePorts) {
    // Arrange
    task_due(&ports, Some(at(-10)), TaskStatus::Completed).await;
    task_due(&ports, None, TaskStatus::InProgress).await;
    task_due(&ports, Some(at(10)), TaskStatus::Pending).await;
    task_due(&ports, Some(at(0)), TaskStatus::Pending).await;

    // Act
    let emitted = ports.overdue.emit_overdue(at(0), 100).await.expect("scan");

    // Assert
    assert_eq!(emitted, 0, "due exactly now is not past due");
    assert!(overdue_events(&ports).await.is_empty());
}

/// A task whose due date moves to another past instant is overdue again; completing it stops that.
pub async fn a_moved_due_date_is_overdue_again_but_a_completed_task_never(ports: QueuePorts) {
    // Arrange
    let task = task_due(&ports, Some(at(-10)), TaskStatus::Pending).await;
    ports.overdue.emit_overdue(at(0), 100).await.expect("scan");

    // Act
    let moved = move_due(&ports, &task, at(-5), 1).await;
    let after_move = ports.overdue.emit_overdue(at(2), 100).await.expect("scan");
    let mut completed = moved.clone();
    assert!(completed.complete(at(3)), "completes");
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.tasks().update(&completed, moved.version()).await.expect("update");
    tx.commit().await.expect("commit");
    let after_completion = ports.overdue.emit_overdue(at(4), 100).await.expect("scan");

    // Assert
    assert_eq!(after_move, 1, "a new past due date is a new overdue event");
    assert_eq!(after_completion, 0, "a completed task is never overdue");
    let events = overdue_events(&ports).await;
    assert_eq!(events.len(), 2, "two in all");
    assert_eq!(events[1].task, moved, "the second carries the moved due date");
}

/// A scan records at most `limit` events, the earliest due first; the next scan takes the rest.
pub async fn a_scan_honours_its_limit(ports: QueuePorts) {
    // Arrange
    let mut tasks = Vec::new();
    for minute in [-30, -10, -20] {
        tasks.push(task_due(&ports, Some(at(minute)), TaskStatus::Pending).await);
    }

    // Act
    let first = ports.overdue.emit_overdue(at(0), 2).await.expect("scan");
    let after_first: Vec<_> = overdue_events(&ports).await.into_iter().map(|e| e.task.id()).collect();
    let second = ports.overdue.emit_overdue(at(0), 2).await.expect("scan");

    // Assert
    assert_eq!((first, second), (2, 1));
    let mut earliest = vec![tasks[0].id(), tasks[2].id()];
    let mut got = after_first;
    earliest.sort();
    got.sort();
    assert_eq!(got, earliest, "the two earliest due first");
}

/// Scans running at once record one event per task in all.
pub async fn concurrent_scans_record_one_event_per_task(ports: QueuePorts) {
    // Arrange
    let owner = stored_user(&ports.storage, "owner").await;
    let tasks: Vec<Task> = (0..30).map(|i| TaskSpec::new(owner.id(), at(-100)).due(Some(at(-i - 1))).build()).collect();
    insert_tasks(&ports.storage, &tasks).await;

    // Act
    let scans = (0..3).map(|_| {
        let ports = ports.clone();
        tokio::spawn(async move {
            let mut total = 0;
            // Bounded, so that a scan that never runs dry fails the test instead of hanging it.
            for _ in 0..100 {
                let n = ports.overdue.emit_overdue(at(0), 4).await.expect("scan");
                if n == 0 {
                    break;
                }
                total += n;
            }
            total
        })
    });
    let emitted: usize = futures::future::join_all(scans).await.into_iter().map(|r| r.expect("scan task")).sum();

    // Assert
    assert_eq!(emitted, 30, "one per task in all");
    let events = overdue_events(&ports).await;
    let distinct: std::collections::HashSet<_> = events.iter().map(|e| e.task.id()).collect();
    assert_eq!((events.len(), distinct.len()), (30, 30), "one event per task");
}

/// The overdue cases, for [`crate::queue_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __overdue_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            overdue,
            [
                an_overdue_task_is_reported_once_per_due_date,
                completed_undated_and_future_tasks_are_not_overdue,
                a_moved_due_date_is_overdue_again_but_a_completed_task_never,
                a_scan_honours_its_limit,
                concurrent_scans_record_one_event_per_task,
            ]
        );
    };
}
