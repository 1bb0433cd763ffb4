//! The transactional outbox: events become visible with their unit of work, and only then.

use chrono::Duration;
use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ids::EventId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::task::{ChangeValue, FieldChange, Task, TaskChanges, TaskField, TaskStatus};
use uuid::Uuid;

use crate::StoragePorts;
use crate::fixtures::{self, TaskSpec, at, stored_user};

/// An event of `kind` about `task`, by its owner (no actor for `task.overdue`), listing every member for
/// `task.created` and nothing otherwise.
#[must_use]
pub fn event(kind: TaskEventKind, task: &Task) -> DomainEvent {
    let changes = if kind == TaskEventKind::Created { TaskChanges::created(task) } else { TaskChanges::none() };
    DomainEvent {
        id: EventId::from_uuid(Uuid::now_v7()),
        kind,
        task: task.clone(),
        occurred_at: task.updated_at(),
        actor: (kind != TaskEventKind::Overdue).then(|| task.owner()),
        changes,
    }
}

/// Appends `events` in one committed unit of work.
async fn commit_events(ports: &StoragePorts, events: &[DomainEvent]) {
    let tx = ports.uow.begin().await.expect("begin");
    tx.outbox().append(events).await.expect("append");
    tx.commit().await.expect("commit");
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
    let history = ports.events.history(task.id(), None, 100).await.expect("history");
    assert!(history.is_empty(), "the rolled-back event is not in the history either");
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

/// Every member of an event comes back exactly as appended: the actor (or none), and each change's member, order
/// and values (null, text, and instants with milliseconds), from both the relay's and the history's side.
pub async fn actor_and_changes_round_trip_exactly(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let due = at(60) + Duration::milliseconds(123);
    let task = TaskSpec::new(ann.id(), at(0)).description("with notes").due(Some(due)).build();
    let time = |minutes, millis| ChangeValue::Time(at(minutes) + Duration::milliseconds(millis));
    let text = |s: &str| ChangeValue::Text(s.to_owned());
    let changes = TaskChanges::new([
        FieldChange { field: TaskField::DueDate, from: ChangeValue::Time(due), to: time(120, 7) },
        FieldChange { field: TaskField::Description, from: text("with notes"), to: ChangeValue::Null },
        FieldChange { field: TaskField::Status, from: text(TaskStatus::Pending.as_str()), to: text("COMPLETED") },
        FieldChange { field: TaskField::CompletedAt, from: ChangeValue::Null, to: time(1, 999) },
        FieldChange { field: TaskField::Title, from: text("Ünïcødé \"quoted\""), to: text("plain") },
    ]);
    let created = event(TaskEventKind::Created, &task);
    let completed = DomainEvent { changes, ..event(TaskEventKind::Completed, &task) };
    let overdue = event(TaskEventKind::Overdue, &task);
    let deleted = event(TaskEventKind::Deleted, &task);
    let appended = vec![created, completed, overdue, deleted];

    // Act
    commit_events(&ports, &appended).await;
    let pending = ports.outbox.pending(100).await.expect("pending");
    let history = ports.events.history(task.id(), None, 100).await.expect("history");

    // Assert
    assert_eq!(pending, appended, "the relay reads every member back");
    assert_eq!(history, appended, "the history reads every member back");
    assert_eq!(history[2].actor, None, "a system event has no actor");
    assert_eq!(history[0].changes.len(), 6, "a creation lists every member");
    assert_eq!(history[1].changes.fields()[0], TaskField::Title, "changes come back in field order");
}

/// A task's history holds its events only, oldest first, across units of work; keyset pages walk it exactly once.
pub async fn history_is_oldest_first_per_task_and_pages_by_keyset(ports: StoragePorts) {
    // Arrange: two tasks whose events interleave, some committed together
    let ann = stored_user(&ports, "ann").await;
    let (a, b) = (fixtures::task(ann.id(), at(0)), fixtures::task(ann.id(), at(1)));
    let mut of_a = Vec::new();
    for round in 0..3 {
        let (a1, a2) = (event(TaskEventKind::Updated, &a), event(TaskEventKind::Updated, &a));
        let kind = if round == 0 { TaskEventKind::Created } else { TaskEventKind::Updated };
        commit_events(&ports, &[a1.clone(), event(kind, &b), a2.clone()]).await;
        of_a.extend([a1.id, a2.id]);
    }

    // Act
    let whole = ports.events.history(a.id(), None, 100).await.expect("history");
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = ports.events.history(a.id(), after, 4).await.expect("page");
        assert!(page.len() <= 4, "a page holds at most `limit` events");
        walked.extend(event_ids(&page));
        match page.last() {
            Some(last) if page.len() == 4 => after = Some(last.id),
            _ => break,
        }
    }
    let past_the_end = ports.events.history(a.id(), whole.last().map(|e| e.id), 10).await.expect("history");
    let unknown = ports.events.history(a.id(), Some(EventId::from_uuid(Uuid::now_v7())), 10).await.expect("history");
    let of_b = ports.events.history(b.id(), None, 100).await.expect("history");

    // Assert
    assert_eq!(event_ids(&whole), of_a, "only this task's events, in commit order");
    assert_eq!(walked, of_a, "pages walk the history once, with no gap and no repeat");
    assert!(past_the_end.is_empty(), "nothing after the last event");
    assert!(unknown.is_empty(), "an unknown `after` gives an empty page");
    assert_eq!(of_b.len(), 3);
    assert!(of_b.iter().all(|e| e.task.id() == b.id()));
}

/// Relaying marks events, it never deletes them: the history keeps every event after it was dispatched.
pub async fn dispatched_events_stay_in_the_history(ports: StoragePorts) {
    // Arrange
    let ann = stored_user(&ports, "ann").await;
    let task = fixtures::task(ann.id(), at(0));
    let events = [event(TaskEventKind::Created, &task), event(TaskEventKind::Deleted, &task)];
    commit_events(&ports, &events).await;

    // Act
    ports.outbox.mark_dispatched(&event_ids(&events)).await.expect("mark");

    // Assert
    assert!(ports.outbox.pending(10).await.expect("pending").is_empty(), "nothing left to relay");
    let history = ports.events.history(task.id(), None, 10).await.expect("history");
    assert_eq!(history, events, "the log is permanent, the deleted task's history included");
}
