//! The transactional outbox: events become visible with their unit of work, and only then.

use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ids::EventId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::task::Task;
use uuid::Uuid;

use crate::StoragePorts;
use crate::fixtures::{self, at, stored_user};

/// An event of `kind` about `task`.
#[must_use]
pub fn event(kind: TaskEventKind, task: &Task) -> DomainEvent {
    DomainEvent { id: EventId::from_uuid(Uuid::now_v7()), kind, task: task.clone(), occurred_at: task.updated_at() }
}

fn event_ids(events: &[DomainEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id).collect()
}

/// Dropping a unit of work without committing leaves neither the task nor its event.
pub async fn dropping_a_unit_of_work_rolls_back_tasks_and_events(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    tx.tasks().insert(&task).await.expect("insert");
    tx.outbox().append(&[event(TaskEventKind::Created, &task)]).await.expect("append");
    drop(tx);

    // Assert
    assert_eq!(ports.tasks.get(task.id(), TaskScope::All).await.expect("get"), None, "the task was rolled back");
    assert!(ports.outbox.pending(100).await.expect("pending").is_empty(), "the event was rolled back");
    let tx = ports.uow.begin().await.expect("a new unit of work can start after a rollback");
    drop(tx);
}

/// Committed events are pending exactly once each until marked dispatched.
pub async fn committed_events_are_pending_once_until_dispatched(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    let created = event(TaskEventKind::Created, &task);
    let updated = event(TaskEventKind::Updated, &task);

    // Act
    let tx = ports.uow.begin().await.expect("begin");
    tx.tasks().insert(&task).await.expect("insert");
    tx.outbox().append(std::slice::from_ref(&created)).await.expect("append");
    tx.outbox().append(std::slice::from_ref(&updated)).await.expect("append");
    tx.commit().await.expect("commit");
    let pending = ports.outbox.pending(100).await.expect("pending");
    let again = ports.outbox.pending(100).await.expect("pending");
    ports.outbox.mark_dispatched(&[created.id]).await.expect("mark");
    let after = ports.outbox.pending(100).await.expect("pending");

    // Assert
    assert_eq!(pending, vec![created.clone(), updated.clone()], "both events, whole, in order");
    assert_eq!(again, pending, "reading does not consume");
    assert_eq!(event_ids(&after), vec![updated.id], "a dispatched event is no longer pending");
}

/// `pending` returns at most `limit` events, oldest first, across units of work.
pub async fn pending_events_honour_the_limit_and_come_oldest_first(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    let mut appended = Vec::new();
    for _ in 0..5 {
        let tx = ports.uow.begin().await.expect("begin");
        let e = event(TaskEventKind::Updated, &task);
        tx.outbox().append(std::slice::from_ref(&e)).await.expect("append");
        tx.commit().await.expect("commit");
        appended.push(e.id);
    }

    // Act
    let first = ports.outbox.pending(3).await.expect("pending");
    ports.outbox.mark_dispatched(&event_ids(&first)).await.expect("mark");
    let rest = ports.outbox.pending(3).await.expect("pending");

    // Assert
    assert_eq!(event_ids(&first), appended[..3], "the three oldest");
    assert_eq!(event_ids(&rest), appended[3..], "then the remaining two");
}
