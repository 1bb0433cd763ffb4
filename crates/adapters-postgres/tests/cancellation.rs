//! Requests cancelled at any `.await` (client gone, timeout, shutdown) leave nothing behind: no connection goes back
//! to the pool inside a transaction, and no unit of work is committed by someone else's `COMMIT`.
//!
//! Each case drops a unit of work or a listing after it has been polled `n` times, for every `n` until it completes,
//! on a pool of one connection, so the next user of the pool gets exactly the connection the cancelled one used.

mod support;

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use taskflow_adapters_postgres::PgStorage;
use taskflow_adapters_postgres::testing::{fresh_storage_with, test_settings};
use taskflow_contract_tests::fixtures::{TaskSpec, t0};
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, UnitOfWork};
use taskflow_domain::query::{Paging, SortField, SortOrder, TaskFilter, TaskQuery};
use taskflow_domain::task::Task;
use taskflow_domain::{EventId, RepoError, UserId};
use uuid::Uuid;

use support::{cancel_after, count, stored_users};

/// A create command's unit of work: the task and its event, committed together.
async fn create(s: &PgStorage, task: &Task) -> Result<(), RepoError> {
    let tx = s.begin().await?;
    tx.tasks().insert(task).await?;
    let event = DomainEvent::created(EventId::from_uuid(Uuid::now_v7()), task, task.owner(), t0());
    tx.outbox().append(&[event]).await?;
    tx.commit().await
}

fn listing(owner: UserId) -> TaskQuery {
    TaskQuery {
        filter: TaskFilter::scoped(TaskScope::Owner(owner)),
        sort: SortField::CreatedAt,
        order: SortOrder::Desc,
        paging: Paging::Offset { page: 1, limit: 20 },
        now: t0(),
    }
}

/// Whether the pool's connection is inside a transaction that nobody owns: one opened before [`settle`] began is
/// older than the probe's own implicit transaction by far more than a probe takes.
async fn pool_connection_is_in_a_transaction(s: &PgStorage) -> bool {
    let sql = "SELECT clock_timestamp() - now() > interval '15 milliseconds' AS stale";
    let row = s
        .connection()
        .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
        .await
        .expect("probe")
        .expect("a row");
    row.try_get::<bool>("", "stale").expect("stale")
}

/// Lets the pool take back a dropped connection (that happens on a spawned task).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(40)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_unit_of_work_or_listing_never_leaves_its_transaction_on_a_pooled_connection() {
    // Arrange: one connection, so each cancelled request's connection is the very next one handed out.
    let s =
        fresh_storage_with(|url| taskflow_adapters_postgres::PgSettings { max_connections: 1, ..test_settings(url) })
            .await;
    let owner = stored_users(&s, 1).await[0].id();
    let mut leaked = Vec::new();
    let mut committed_by_others = 0;

    // Act: cancel a create at every poll until one completes, checking the pool's connection after each.
    for polls in 1.. {
        let task = TaskSpec::new(owner, t0()).build();
        let outcome = cancel_after(polls, create(&s, &task)).await;
        settle().await;
        if pool_connection_is_in_a_transaction(&s).await {
            leaked.push(format!("create cancelled after {polls} polls"));
        }
        // A later, complete unit of work commits on its own and is visible at once from outside.
        let witness = TaskSpec::new(owner, t0()).build();
        create(&s, &witness).await.expect("a later unit of work commits");
        let seen = count(&s, &format!("SELECT count(*) AS n FROM tasks WHERE id = '{}'", witness.id())).await;
        if seen != 1 {
            committed_by_others += 1;
        }
        if matches!(outcome, Some(Ok(()))) {
            break;
        }
        assert!(polls < 200, "the unit of work never completed");
    }
    // The same for a listing (a read-only, repeatable-read transaction with a page and a count).
    for polls in 1.. {
        let outcome = cancel_after(polls, s.list(&listing(owner))).await;
        settle().await;
        if pool_connection_is_in_a_transaction(&s).await {
            leaked.push(format!("listing cancelled after {polls} polls"));
        }
        s.list(&listing(owner)).await.expect("a later listing works");
        if matches!(outcome, Some(Ok(_))) {
            break;
        }
        assert!(polls < 200, "the listing never completed");
    }

    // Assert
    assert!(leaked.is_empty(), "connections went back to the pool inside a transaction: {leaked:?}");
    assert_eq!(committed_by_others, 0, "a unit of work was only committed by a later one's COMMIT");
    let tasks = count(&s, "SELECT count(*) AS n FROM tasks").await;
    let with_one_event = count(
        &s,
        "SELECT count(*) AS n FROM tasks t WHERE (SELECT count(*) FROM outbox_events e WHERE e.task_id = t.id) = 1",
    )
    .await;
    let orphan_events = count(
        &s,
        "SELECT count(*) AS n FROM outbox_events e WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)",
    )
    .await;
    assert_eq!(with_one_event, tasks, "every committed task has exactly its one event");
    assert_eq!(orphan_events, 0, "no event without its task");
}
