//! Statement counts: a listing or a bulk write issues a fixed number of statements, whatever its size.

mod support;

use taskflow_adapters_postgres::testing::fresh_storage_counting;
use taskflow_contract_tests::fixtures::t0;
use taskflow_domain::TaskId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, TaskWrite, UnitOfWork};
use taskflow_domain::query::{Paging, SortField, SortOrder, TaskFilter, TaskQuery};
use taskflow_domain::task::TaskStatus;

use support::{seed, stored_users};

fn query(scope: TaskScope, paging: Paging) -> TaskQuery {
    let filter =
        TaskFilter { statuses: vec![TaskStatus::Pending, TaskStatus::InProgress], ..TaskFilter::scoped(scope) };
    TaskQuery { filter, sort: SortField::DueDate, order: SortOrder::Desc, paging, now: t0() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_of_10_and_100_issue_the_same_statements() {
    // Arrange
    let (s, log) = fresh_storage_counting().await;
    let users = stored_users(&s, 1).await;
    let scope = TaskScope::Owner(users[0].id());
    seed(&s, &[users[0].id()], 400).await;
    let _ = log.take();

    // Act and Assert
    let mut counts = Vec::new();
    for limit in [10, 100] {
        let page = s.list(&query(scope, Paging::Offset { page: 1, limit })).await.expect("offset page");
        assert_eq!(page.items.len(), limit as usize);
        let offset = log.take().len();
        let page = s.list(&query(scope, Paging::Keyset { after: None, limit })).await.expect("first keyset page");
        let after = page.next.clone();
        assert!(after.is_some());
        let _ = s.list(&query(scope, Paging::Keyset { after, limit })).await.expect("second keyset page");
        let keyset = log.take().len();
        println!("limit {limit}: offset page {offset} statements, two keyset pages {keyset} statements");
        counts.push((offset, keyset));
    }
    assert_eq!(counts[0], counts[1], "the statement count does not grow with the page size");
    assert_eq!(counts[0], (1, 2), "an offset page and its total are one statement; so is each keyset page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_task_reads_and_writes_are_one_statement_each() {
    // Arrange
    let (s, log) = fresh_storage_counting().await;
    let users = stored_users(&s, 1).await;
    seed(&s, &[users[0].id()], 5).await;
    let scope = TaskScope::Owner(users[0].id());
    let page = s.list(&query(scope, Paging::Offset { page: 1, limit: 5 })).await.expect("list");
    let mut task = page.items[0].task.clone();
    let _ = log.take();

    // Act and Assert
    assert!(s.get(task.id(), scope).await.expect("get").is_some());
    assert_eq!(log.take().len(), 1, "get: one joined statement");
    let _ = s.stats(scope, t0()).await.expect("stats");
    assert_eq!(log.take().len(), 1, "stats: one aggregate statement");

    let tx = s.begin().await.expect("begin");
    let expected = task.version();
    task.complete(t0());
    tx.tasks().update(&task, expected).await.expect("update");
    assert_eq!(log.take().len(), 1, "update: one UPDATE with the version check");
    assert!(tx.tasks().delete(task.id(), scope).await.expect("delete").is_some());
    assert_eq!(log.take().len(), 1, "delete: one DELETE ... RETURNING");
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_10_and_1000_ids_issue_the_same_statements() {
    // Arrange
    let (s, log) = fresh_storage_counting().await;
    let users = stored_users(&s, 1).await;
    let scope = TaskScope::Owner(users[0].id());
    seed(&s, &[users[0].id()], 2_000).await;
    let mut ids = Vec::new();
    let mut after = None;
    while ids.len() < 2_000 {
        let page = s.list(&query(TaskScope::All, Paging::Keyset { after, limit: 100 })).await.expect("list");
        ids.extend(page.items.iter().map(|v| v.task.id()));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    // Unfinished tasks only (the query filters), so every completion changes something.
    let ids: Vec<TaskId> = ids.into_iter().take(1_010).collect();
    assert_eq!(ids.len(), 1_010);
    let _ = log.take();

    // Act
    let mut counts = Vec::new();
    for batch in [&ids[..10], &ids[10..]] {
        let read = s.read_tasks(batch, scope).await.expect("read_tasks");
        let completions: Vec<TaskWrite> = read
            .iter()
            .map(|task| {
                let mut done = task.clone();
                done.complete(t0());
                TaskWrite::Update { task: done, expected: task.version() }
            })
            .collect();
        let completed = s.write_tasks(&completions, &[]).await.expect("complete");
        assert_eq!((read.len(), completed.len()), (batch.len(), batch.len()));
        let complete = log.take().len();
        let deletions: Vec<TaskWrite> = completions.iter().map(|w| TaskWrite::Delete(w.task().clone())).collect();
        let deleted = s.write_tasks(&deletions, &[]).await.expect("delete");
        assert_eq!(deleted.len(), batch.len());
        let delete = log.take().len();
        println!("batch of {}: read and complete {complete} statement(s), delete {delete}", batch.len());
        counts.push((complete, delete));
    }

    // Assert
    assert_eq!(counts[0], counts[1], "the statement count does not grow with the batch");
    assert_eq!(counts[0], (2, 1), "a read and a write to complete, a write to delete");
}
