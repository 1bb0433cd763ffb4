//! A smoke test at the embedded mode's expected size: 100k tasks commit and list (timings are printed, not
//! asserted, so a slow machine does not fail the build).

use std::sync::Arc;
use std::time::Instant;

use taskflow_adapters_memory::InMemoryStore;
use taskflow_contract_tests::fixtures::{self, at};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::{TaskReadModel, UnitOfWork};
use taskflow_domain::query::{Paging, SortField, SortOrder, TaskFilter, TaskQuery};

#[tokio::test]
async fn listing_a_hundred_thousand_tasks() {
    // Arrange
    let store = Arc::new(InMemoryStore::new());
    let ann = fixtures::user("ann");
    let tx = UnitOfWork::begin(&*store).await.expect("begin");
    tx.users().insert(&ann).await.expect("user");
    for i in 0..100_000 {
        tx.tasks()
            .insert(&fixtures::TaskSpec::new(ann.id(), at(i % 5000)).title(&format!("Task {i}")).build())
            .await
            .expect("task");
    }
    let started = Instant::now();
    tx.commit().await.expect("commit");
    let commit = started.elapsed();

    // Act
    let mut timings = Vec::new();
    for sort in SortField::ALL {
        for paging in [Paging::Offset { page: 3, limit: 20 }, Paging::Keyset { after: None, limit: 100 }] {
            let query = TaskQuery {
                filter: TaskFilter::scoped(TaskScope::Owner(ann.id())),
                sort,
                order: SortOrder::Desc,
                paging,
                now: at(0),
            };
            let started = Instant::now();
            let page = store.list(&query).await.expect("list");
            timings.push((sort, started.elapsed()));
            assert!(!page.items.is_empty(), "a page of items");
        }
    }

    // Assert
    eprintln!("commit of 100k: {commit:?}; listings: {timings:?}");
}
