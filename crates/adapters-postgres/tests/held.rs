//! The connections that single statements hold out of the pool (`held.rs`): a statement dropped at any `.await`
//! leaves nothing to the next one, and they are bounded so that transactions always find a connection.

mod support;

use std::time::{Duration, Instant};

use taskflow_adapters_postgres::PgSettings;
use taskflow_adapters_postgres::testing::{fresh_storage_with, test_settings};
use taskflow_contract_tests::fixtures::{TaskSpec, t0};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, UnitOfWork};
use taskflow_domain::{EventId, RepoError};
use uuid::Uuid;

use support::{cancel_after, count, store_tasks, stored_users};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_statement_dropped_at_any_await_leaves_nothing_for_the_next_one() {
    // Arrange: a pool of two, so every single statement runs on the one connection held out of it.
    let s = fresh_storage_with(|url| PgSettings { max_connections: 2, ..test_settings(url) }).await;
    let owner = stored_users(&s, 1).await[0].id();
    let (a, b) = (TaskSpec::new(owner, t0()).title("a").build(), TaskSpec::new(owner, t0()).title("b").build());
    store_tasks(&s, &[a.clone(), b.clone()]).await;
    let scope = TaskScope::Owner(owner);
    let mut wrong = Vec::new();

    // Act: drop a read after each number of polls until one completes; the next read must get its own answer.
    for polls in 1.. {
        let outcome = cancel_after(polls, s.get(a.id(), scope)).await;
        let next = s.get(b.id(), scope).await.expect("the next read works").expect("b is there");
        if next.task.id() != b.id() {
            wrong.push(format!("read after a read dropped at poll {polls} got {:?}", next.task.id()));
        }
        if matches!(outcome, Some(Ok(_))) {
            break;
        }
        assert!(polls < 200, "the read never completed");
    }
    // The same for a create, which must also be all or nothing: the task with its event, or neither.
    for polls in 1.. {
        let task = TaskSpec::new(owner, t0()).build();
        let event = DomainEvent::created(EventId::from_uuid(Uuid::now_v7()), &task, owner, t0());
        let outcome = cancel_after(polls, s.create_task(&task, &[event])).await;
        let next = s.get(b.id(), scope).await.expect("the next read works").expect("b is there");
        if next.task.id() != b.id() {
            wrong.push(format!("read after a create dropped at poll {polls} got {:?}", next.task.id()));
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        let tasks = count(&s, &format!("SELECT count(*) AS n FROM tasks WHERE id = '{}'", task.id())).await;
        let events =
            count(&s, &format!("SELECT count(*) AS n FROM outbox_events WHERE task_id = '{}'", task.id())).await;
        if tasks != events {
            wrong.push(format!("create dropped at poll {polls}: {tasks} task rows, {events} events"));
        }
        if matches!(outcome, Some(Ok(_))) {
            break;
        }
        assert!(polls < 200, "the create never completed");
    }

    // Assert
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_statements_hold_at_most_three_quarters_of_the_pool_and_leave_the_rest_to_transactions() {
    // Arrange: a pool of eight (single statements may hold six); a transaction locks a task, so that six updates
    // of it wait inside their statements, each holding its connection.
    let s = fresh_storage_with(|url| PgSettings {
        max_connections: 8,
        acquire_timeout: Duration::from_millis(300),
        ..test_settings(url)
    })
    .await;
    let owner = stored_users(&s, 1).await[0].id();
    let task = TaskSpec::new(owner, t0()).build();
    store_tasks(&s, std::slice::from_ref(&task)).await;
    let scope = TaskScope::Owner(owner);
    let locker = s.begin().await.expect("a transaction");
    locker.tasks().find_for_update(task.id(), scope).await.expect("lock").expect("the task");
    let waiting: Vec<_> = (0..6)
        .map(|_| {
            let (s, task) = (s.clone(), task.clone());
            tokio::spawn(async move { s.update_task(&task, task.version(), &[]).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act: a seventh single statement (a read, which no lock blocks) finds none of the six free and is refused at
    // the acquire timeout, while a transaction still finds a connection among the rest.
    let started = Instant::now();
    let refused = s.get(task.id(), scope).await;
    let waited = started.elapsed();
    let tx_ok = s.begin().await.is_ok();
    drop(locker);
    let mut updates = Vec::new();
    for update in waiting {
        updates.push(update.await.expect("joined"));
    }

    // Assert
    assert!(matches!(refused, Err(RepoError::Unavailable(_))), "{refused:?}");
    assert!(waited < Duration::from_secs(2), "bounded by the acquire timeout: {waited:?}");
    assert!(tx_ok, "a transaction found a connection");
    assert!(updates.iter().all(Result::is_ok), "the waiting updates ran once the lock went: {updates:?}");
}
