//! Background jobs. Today: the outbox relay, which takes committed domain events from the outbox in order and
//! publishes them (to the log and the `events_published_total` metric) before marking them dispatched. Webhook
//! delivery subscribes here when it lands; nothing is marked dispatched before it was handed on.

use std::sync::Arc;
use std::time::Duration;

use taskflow_domain::ports::OutboxReader;
use tokio_util::sync::CancellationToken;

/// The shortest wait between polls.
const MIN_WAIT: Duration = Duration::from_millis(200);
/// The longest wait between polls of an empty outbox.
const MAX_IDLE_WAIT: Duration = Duration::from_secs(2);
/// The longest wait after failures.
const MAX_ERROR_WAIT: Duration = Duration::from_secs(10);

/// How many events one relay round takes.
const BATCH: usize = 500;

/// Runs the relay until `stop` is cancelled. Storage errors are logged and retried with backoff, never fatal.
pub async fn run(outbox: Arc<dyn OutboxReader>, stop: CancellationToken) {
    tracing::info!("background worker started");
    // Poll quickly while there is work, back off while idle (an empty outbox costs one query per 2 s, not five
    // per second) and longer on errors; any success starts over.
    let mut idle = MIN_WAIT;
    let mut failing = MIN_WAIT;
    loop {
        let wait = match relay_once(outbox.as_ref()).await {
            Ok(0) => {
                failing = MIN_WAIT;
                let wait = idle;
                idle = (idle * 2).min(MAX_IDLE_WAIT);
                wait
            }
            Ok(_) => {
                (idle, failing) = (MIN_WAIT, MIN_WAIT);
                Duration::ZERO
            }
            Err(err) => {
                tracing::warn!(error = %err, "outbox relay failed; retrying");
                failing = (failing * 2).min(MAX_ERROR_WAIT);
                failing
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("background worker stopped");
}

/// One round: returns how many events were relayed.
///
/// # Errors
/// When the outbox cannot be read or updated.
pub async fn relay_once(outbox: &dyn OutboxReader) -> Result<usize, taskflow_domain::RepoError> {
    let events = outbox.pending(BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    for event in &events {
        tracing::debug!(event_id = %event.id, kind = event.kind.as_str(), task_id = %event.task.id(), "event published");
        metrics::counter!("events_published_total", "kind" => event.kind.as_str()).increment(1);
    }
    let ids: Vec<_> = events.iter().map(|e| e.id).collect();
    outbox.mark_dispatched(&ids).await?;
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use taskflow_adapters_memory::InMemoryStore;
    use taskflow_domain::events::{DomainEvent, TaskEventKind};
    use taskflow_domain::ports::UnitOfWork;
    use taskflow_domain::task::{NewTask, Task, TaskChanges, TaskPriority, TaskTitle};
    use taskflow_domain::user::{EmailAddress, NewUser, PasswordHash, Role, User, UserName};
    use taskflow_domain::{EventId, TaskId, UserId};

    use super::relay_once;

    #[tokio::test]
    async fn the_relay_takes_each_committed_event_once() {
        // Arrange: a committed task with two events
        let store = InMemoryStore::new();
        let now = chrono::Utc::now();
        let owner = UserId::from_uuid(uuid::Uuid::now_v7());
        let user = User::new(
            NewUser {
                email: EmailAddress::parse("ann@example.com").unwrap(),
                name: UserName::parse("Ann").unwrap(),
                role: Role::User,
                password_hash: PasswordHash::from_phc("$argon2id$x".into()),
            },
            owner,
            now,
        );
        let task = Task::new(
            NewTask { priority: TaskPriority::Low, ..NewTask::new(TaskTitle::parse("t").unwrap()) },
            owner,
            TaskId::from_uuid(uuid::Uuid::now_v7()),
            now,
        );
        let event = |kind| DomainEvent {
            id: EventId::from_uuid(uuid::Uuid::now_v7()),
            kind,
            task: task.clone(),
            occurred_at: now,
            actor: Some(owner),
            changes: TaskChanges::none(),
        };
        let tx = UnitOfWork::begin(&store).await.unwrap();
        tx.users().insert(&user).await.unwrap();
        tx.tasks().insert(&task).await.unwrap();
        tx.outbox().append(&[event(TaskEventKind::Created), event(TaskEventKind::Updated)]).await.unwrap();
        tx.commit().await.unwrap();
        // Act
        let first = relay_once(&store).await.unwrap();
        let second = relay_once(&store).await.unwrap();
        // Assert
        assert_eq!((first, second), (2, 0), "relayed once, then marked dispatched");
    }
}
