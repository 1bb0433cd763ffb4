//! Races against the real database: optimistic updates, refresh-token consumption, and abandoned units of work.

mod support;

use std::sync::Arc;

use futures::future::join_all;
use taskflow_adapters_postgres::testing::{fresh_storage, fresh_storage_with, test_settings};
use taskflow_contract_tests::fixtures::{TaskSpec, at, family, refresh_token, t0};
use taskflow_domain::auth::ConsumeOutcome;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{OutboxReader, RefreshTokenStore, TaskReadModel, TaskWrite, UnitOfWork};
use taskflow_domain::task::{TaskPatch, TaskPriority};
use taskflow_domain::{EventId, RepoError};
use uuid::Uuid;

use support::{store_tasks, stored_users};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_racing_updates_with_one_expected_version_commit_exactly_once() {
    // Arrange
    let s =
        fresh_storage_with(|url| taskflow_adapters_postgres::PgSettings { max_connections: 25, ..test_settings(url) })
            .await;
    let users = stored_users(&s, 1).await;
    let task = TaskSpec::new(users[0].id(), t0()).build();
    store_tasks(&s, std::slice::from_ref(&task)).await;

    // Act: every racer read version 1 and writes its own title against it.
    let racers = (0..20).map(|i| {
        let (s, mut mine) = (s.clone(), task.clone());
        tokio::spawn(async move {
            let expected = mine.version();
            let title = taskflow_contract_tests::fixtures::title(&format!("racer {i}"));
            mine.apply(TaskPatch { title: Some(title), ..TaskPatch::default() }, at(1));
            let tx = s.begin().await?;
            tx.tasks().update(&mine, expected).await?;
            tx.commit().await
        })
    });
    let results: Vec<Result<(), RepoError>> = join_all(racers).await.into_iter().map(|r| r.expect("join")).collect();

    // Assert
    let won = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results.iter().filter(|r| matches!(r, Err(RepoError::Conflict))).count();
    assert_eq!((won, conflicts), (1, 19), "{results:?}");
    let stored = s.get(task.id(), TaskScope::All).await.expect("get").expect("task");
    assert_eq!(stored.task.version().get(), 2, "one change, one version bump");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_racing_consumes_of_one_token_let_exactly_one_through_and_revoke_the_family() {
    // Arrange
    let s = fresh_storage().await;
    let users = stored_users(&s, 1).await;
    let record = refresh_token(users[0].id(), family());
    s.insert(&record).await.expect("insert token");
    let store: Arc<dyn RefreshTokenStore> = Arc::new(s.clone());

    // Act
    let racers = (0..10).map(|_| {
        let (store, hash) = (store.clone(), record.hash.clone());
        tokio::spawn(async move { store.consume(&hash, at(1)).await })
    });
    let outcomes: Vec<ConsumeOutcome> =
        join_all(racers).await.into_iter().map(|r| r.expect("join").expect("consume")).collect();

    // Assert
    let consumed = outcomes.iter().filter(|o| matches!(o, ConsumeOutcome::Consumed(_))).count();
    assert_eq!(consumed, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            ConsumeOutcome::Consumed(_) | ConsumeOutcome::Reused { .. } | ConsumeOutcome::Revoked
        )),
        "the losers see a reuse (or the family it revoked): {outcomes:?}"
    );
    let next = refresh_token(users[0].id(), record.family);
    s.insert(&next).await.expect("insert the rotated token");
    assert_eq!(
        s.consume(&next.hash, at(2)).await.expect("consume"),
        ConsumeOutcome::Revoked,
        "reuse revoked the family"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_of_work_dropped_midway_leaves_no_task_and_no_event_and_frees_its_connection() {
    // Arrange: a pool of one connection, so the next unit can only run once the abandoned one rolled back.
    let s =
        fresh_storage_with(|url| taskflow_adapters_postgres::PgSettings { max_connections: 1, ..test_settings(url) })
            .await;
    let users = stored_users(&s, 1).await;
    let task = TaskSpec::new(users[0].id(), t0()).priority(TaskPriority::High).build();

    // Act
    {
        let tx = s.begin().await.expect("begin");
        tx.tasks().insert(&task).await.expect("insert");
        let event = DomainEvent::created(EventId::from_uuid(Uuid::now_v7()), &task, task.owner(), t0());
        tx.outbox().append(&[event]).await.expect("append");
        // The command fails here: the unit is dropped without commit.
    }
    let tx = s.begin().await.expect("the connection came back to the pool");
    let seen_inside = tx.tasks().find_for_update(task.id(), TaskScope::All).await.expect("find");
    drop(tx);

    // Assert
    assert_eq!(seen_inside, None);
    assert_eq!(s.get(task.id(), TaskScope::All).await.expect("get"), None, "no task");
    assert!(s.pending(10).await.expect("pending").is_empty(), "no outbox row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_over_the_same_tasks_in_opposite_orders_never_deadlock() {
    // Arrange: 60 tasks, and batches naming them forwards and backwards (the review's deadlock recipe)
    let s =
        fresh_storage_with(|url| taskflow_adapters_postgres::PgSettings { max_connections: 12, ..test_settings(url) })
            .await;
    let users = stored_users(&s, 1).await;
    let tasks: Vec<_> = (0..60).map(|i| TaskSpec::new(users[0].id(), at(i)).build()).collect();
    store_tasks(&s, &tasks).await;
    let forwards: Vec<_> = tasks.iter().map(|t| t.id()).collect();
    let backwards: Vec<_> = forwards.iter().rev().copied().collect();

    // Act: eight concurrent units of work, alternating order and action
    let racers = (0..8).map(|i| {
        let s = s.clone();
        let ids = if i % 2 == 0 { forwards.clone() } else { backwards.clone() };
        tokio::spawn(async move {
            let read = s.read_tasks(&ids, TaskScope::All).await?;
            let writes: Vec<TaskWrite> = read
                .into_iter()
                .map(|task| {
                    if i < 6 {
                        let expected = task.version();
                        let mut done = task;
                        // Already completed by another racer or not, it is written (and its row locked) all the same.
                        done.complete(at(100));
                        TaskWrite::Update { task: done, expected }
                    } else {
                        TaskWrite::Delete(task)
                    }
                })
                .collect();
            s.write_tasks(&writes, &[]).await.map(|_| ())
        })
    });
    let results: Vec<Result<(), RepoError>> = join_all(racers).await.into_iter().map(|r| r.expect("join")).collect();

    // Assert
    assert!(results.iter().all(Result::is_ok), "no deadlock or serialization failure: {results:?}");
}
