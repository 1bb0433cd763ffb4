//! The event log on PostgreSQL specifically: appends wake workers through `NOTIFY` on commit only (a transaction's
//! from inside it; a request's single statement through the waker, once it has returned), and a task's history is
//! one statement over the `(task_id, seq)` index.

mod support;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgNotification};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use taskflow_adapters_postgres::testing::{fresh_database, fresh_storage_counting, test_settings};
use taskflow_adapters_postgres::{PgStorage, WORK_CHANNEL, connect_pool};
use taskflow_contract_tests::fixtures::{at, task, user_id};
use taskflow_contract_tests::storage::event;
use taskflow_domain::events::{Deletion, DomainEvent, TaskEventKind};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{EventLog, UnitOfWork};
use taskflow_domain::task::Version;
use taskflow_domain::{EventId, RepoError, TaskId};

use support::stored_users;

/// A channel the test itself notifies on: notifications arrive in commit order, so a marker sent after a step
/// proves that the step sent nothing (had it, that would have arrived first).
const MARKER: &str = "taskflow_test_marker";

async fn next(listener: &mut PgListener) -> PgNotification {
    tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("a notification within the deadline")
        .expect("the listener's connection")
}

async fn mark(s: &PgStorage) {
    s.connection().execute_unprepared(&format!("SELECT pg_notify('{MARKER}', '')")).await.expect("marker");
}

async fn append(s: &PgStorage, events: &[DomainEvent]) -> Box<dyn taskflow_domain::ports::Transaction> {
    let tx = s.begin().await.expect("begin");
    for e in events {
        tx.outbox().append(std::slice::from_ref(e)).await.expect("append");
    }
    tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appending_events_notifies_the_workers_once_per_commit_and_never_before_or_on_rollback() {
    // Arrange
    let (url, _guard) = fresh_database().await;
    let s = PgStorage::new(connect_pool(&test_settings(&url)).await.expect("pool"));
    let mut listener = PgListener::connect(&url).await.expect("listener");
    listener.listen_all([WORK_CHANNEL, MARKER]).await.expect("listen");
    let t = task(user_id(), at(0));
    let events = || [event(TaskEventKind::Created, &t), event(TaskEventKind::Updated, &t)];

    // Act & Assert: rolled back
    drop(append(&s, &events()).await);
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "a rolled-back append notifies nobody");

    // Act & Assert: open, then committed
    let open = append(&s, &events()).await;
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "nothing is sent before the commit");
    open.commit().await.expect("commit");
    assert_eq!(next(&mut listener).await.channel(), WORK_CHANNEL, "the commit wakes the workers");
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "two appends in one commit make one wake-up");

    // Act & Assert: a unit without events
    s.begin().await.expect("begin").commit().await.expect("commit");
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "a commit without events is no work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_statement_notifies_nothing_itself_and_the_relays_are_woken_once_it_has_committed() {
    // Arrange: the statements the storage runs are kept (the waker's own connection is not the storage's)
    let (url, _guard) = fresh_database().await;
    let statements = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&statements);
    let s = PgStorage::new(connect_pool(&test_settings(&url)).await.expect("pool")).with_metric_callback(move |info| {
        sink.lock().unwrap_or_else(PoisonError::into_inner).push(info.statement.sql.clone());
    });
    let owner = stored_users(&s, 1).await[0].id();
    let mut listener = PgListener::connect(&url).await.expect("listener");
    listener.listen_all([WORK_CHANNEL, MARKER]).await.expect("listen");
    let t = task(owner, at(0));

    // Act & Assert: a create wakes the relays once it has returned
    s.create_task(&t, &[event(TaskEventKind::Created, &t)]).await.expect("create");
    assert_eq!(next(&mut listener).await.channel(), WORK_CHANNEL, "the create wakes the relays");
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "one wake-up for one create");

    // Act & Assert: writes that did not happen wake nobody
    let stale = s.update_task(&t, Version::INITIAL.next(), &[event(TaskEventKind::Updated, &t)]).await;
    assert!(matches!(stale, Err(RepoError::Conflict)), "{stale:?}");
    let deletion = Deletion { id: EventId::from_uuid(uuid::Uuid::now_v7()), actor: owner, at: at(1) };
    let missing = TaskId::from_uuid(uuid::Uuid::now_v7());
    assert!(s.delete_task(missing, TaskScope::Owner(owner), &deletion).await.expect("delete").is_none());
    mark(&s).await;
    assert_eq!(next(&mut listener).await.channel(), MARKER, "a conflict or a missing task is no work");

    // Act & Assert: a delete that happened wakes them
    assert!(s.delete_task(t.id(), TaskScope::Owner(owner), &deletion).await.expect("delete").is_some());
    assert_eq!(next(&mut listener).await.channel(), WORK_CHANNEL, "the delete wakes the relays");

    // Assert: none of the statements took the notification lock itself
    let statements = statements.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(statements.iter().any(|sql| sql.contains("INSERT INTO tasks")), "the create was seen: {statements:?}");
    assert!(!statements.iter().any(|sql| sql.contains("pg_notify")), "no statement notifies: {statements:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_page_is_one_statement_over_the_task_seq_index() {
    // Arrange: 50 tasks with 10 events each, interleaved
    let (s, log) = fresh_storage_counting().await;
    let tasks: Vec<_> = (0..50).map(|_| task(user_id(), at(0))).collect();
    for _ in 0..10 {
        let batch: Vec<_> = tasks.iter().map(|t| event(TaskEventKind::Updated, t)).collect();
        append(&s, &batch).await.commit().await.expect("commit");
    }
    s.connection().execute_unprepared("ANALYZE outbox_events").await.expect("analyze");
    let first = s.history(tasks[7].id(), None, 4).await.expect("history");
    let _ = log.take();

    // Act
    let page = s.history(tasks[7].id(), first.last().map(|e| e.id), 4).await.expect("history");
    let statements = log.take();

    // Assert
    assert_eq!(page.len(), 4);
    assert_eq!(statements.len(), 1, "one statement per page");
    let txn = s.connection().begin().await.expect("begin");
    // On a table this small a scan (or a bitmap scan and a sort) may be as cheap; forbid both to see which index
    // the statement can use, in order.
    txn.execute_unprepared("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off").await.expect("set");
    let explain = Statement { sql: format!("EXPLAIN {}", statements[0].sql), ..statements[0].clone() };
    let plan: Vec<String> = txn
        .query_all_raw(explain)
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").expect("plan line"))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("outbox_events_task_seq_idx"), "reads through the (task_id, seq) index:\n{plan}");
    assert!(!plan.contains("Sort"), "the index gives the order, no sort:\n{plan}");
}
