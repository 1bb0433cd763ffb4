//! The read cache: hits, no stale reads after writes, one load per hot key, bypass when the store is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskReadModel;
use taskflow_domain::query::{TaskPage, TaskQuery, TaskStats, TaskView};
use taskflow_domain::task::{NewTask, TaskPatch, TaskTitle};
use taskflow_domain::{RepoError, TaskId};

use super::resync_tests::{first_page, title};
use super::{CachedTaskReadModel, ReadCache};
use crate::ports::CacheStore;
use crate::tasks::CreateTask;
use crate::test_support::{World, with_deps, world};

/// Counts the listings that reach the store, optionally slowly (to make concurrent misses overlap).
struct Counting {
    inner: Arc<dyn TaskReadModel>,
    lists: AtomicUsize,
    delay: Duration,
}

#[async_trait]
impl TaskReadModel for Counting {
    async fn get(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        self.inner.get(id, scope).await
    }
    async fn list(&self, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.inner.list(query).await
    }
    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError> {
        self.inner.stats(scope, now).await
    }
}

/// A cache store that is down.
struct Down;

#[async_trait]
impl CacheStore for Down {
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, RepoError> {
        Err(RepoError::unavailable(std::io::Error::other("down")))
    }
    async fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), RepoError> {
        Err(RepoError::unavailable(std::io::Error::other("down")))
    }
    async fn incr(&self, _: &str, _: Duration) -> Result<u64, RepoError> {
        Err(RepoError::unavailable(std::io::Error::other("down")))
    }
    async fn get_generational(&self, _: &str, _: &str, _: &str) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        Err(RepoError::unavailable(std::io::Error::other("down")))
    }
}

/// A world whose task reads go through the cache over `store`, with the counter behind it.
fn cached_world(store: Arc<dyn CacheStore>, delay: Duration) -> (World, Arc<Counting>) {
    let base = world();
    let counting = Arc::new(Counting { inner: base.deps.task_reads.clone(), lists: AtomicUsize::new(0), delay });
    let cache = Arc::new(ReadCache::new(store, Duration::from_secs(30)));
    let deps = crate::Deps {
        task_reads: Arc::new(CachedTaskReadModel::new(counting.clone(), cache.clone())),
        read_cache: cache,
        ..base.deps.clone()
    };
    (with_deps(base.store.clone(), base.clock.clone(), deps), counting)
}

fn new_task(title: &str) -> CreateTask {
    CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None }
}

#[tokio::test]
async fn a_repeated_read_is_served_from_the_cache() {
    let (w, counting) = cached_world(Arc::new(crate::test_support::MapCacheStore::default()), Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("cached")).await.unwrap().task.id();
    for _ in 0..5 {
        assert_eq!(title(&w, ann, id).await, "cached");
    }
    assert_eq!(counting.lists.load(Ordering::SeqCst), 1, "one load, four hits");
}

#[tokio::test]
async fn a_write_is_visible_at_once_to_the_next_read() {
    // Arrange: the task is cached
    let (w, _) = cached_world(Arc::new(crate::test_support::MapCacheStore::default()), Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let admin = w.admin("root@example.com").await;
    let id = w.tasks.create_task(ann, new_task("before")).await.unwrap().task.id();
    title(&w, ann, id).await;
    title(&w, admin, id).await;
    // Act
    let patch = TaskPatch { title: Some(TaskTitle::parse("after").unwrap()), ..TaskPatch::default() };
    w.tasks.update_task(admin, id, patch, None).await.unwrap();
    // Assert: both the owner's and the admin-wide keys moved on
    assert_eq!(title(&w, ann, id).await, "after");
    assert_eq!(title(&w, admin, id).await, "after");
    w.tasks.delete_task(ann, id).await.unwrap();
    let page = w.tasks.list_tasks(ann, first_page()).await.unwrap();
    assert!(page.items.is_empty(), "a deleted task is not served from the cache");
}

#[tokio::test]
async fn list_pages_and_stats_follow_writes() {
    let (w, _) = cached_world(Arc::new(crate::test_support::MapCacheStore::default()), Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    assert_eq!(w.tasks.task_stats(ann, None).await.unwrap().total, 0);
    w.tasks.create_task(ann, new_task("one")).await.unwrap();
    assert_eq!(w.tasks.task_stats(ann, None).await.unwrap().total, 1);
}

#[tokio::test]
async fn a_batch_that_changes_nothing_leaves_the_cache_alone() {
    // Arrange: a completed task, its owner's page and the admin-wide page cached
    let (w, counting) = cached_world(Arc::new(crate::test_support::MapCacheStore::default()), Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let admin = w.admin("root@example.com").await;
    let id = w.tasks.create_task(ann, new_task("done")).await.unwrap().task.id();
    let complete = crate::tasks::BatchCommand::new(vec![id], taskflow_domain::query::BatchAction::Complete).unwrap();
    w.tasks.batch(ann, complete.clone()).await.unwrap();
    title(&w, ann, id).await;
    title(&w, admin, id).await;
    let loads = counting.lists.load(Ordering::SeqCst);

    // Act: completing it again writes nothing
    w.tasks.batch(ann, complete).await.unwrap();

    // Assert
    assert_eq!(title(&w, ann, id).await, "done");
    assert_eq!(title(&w, admin, id).await, "done");
    assert_eq!(counting.lists.load(Ordering::SeqCst), loads, "still a hit: no generation was bumped");
}

#[tokio::test]
async fn concurrent_misses_of_one_key_load_once() {
    let (w, counting) =
        cached_world(Arc::new(crate::test_support::MapCacheStore::default()), Duration::from_millis(50));
    let w = Arc::new(w);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("hot")).await.unwrap().task.id();
    let readers = (0..20).map(|_| {
        let w = w.clone();
        tokio::spawn(async move { title(&w, ann, id).await })
    });
    for r in futures::future::join_all(readers).await {
        assert_eq!(r.unwrap(), "hot");
    }
    assert_eq!(counting.lists.load(Ordering::SeqCst), 1, "twenty concurrent misses, one database read");
}

#[tokio::test]
async fn reads_and_writes_work_when_the_cache_is_down() {
    let (w, counting) = cached_world(Arc::new(Down), Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("uncached")).await.unwrap().task.id();
    assert_eq!(title(&w, ann, id).await, "uncached");
    assert_eq!(title(&w, ann, id).await, "uncached");
    assert_eq!(counting.lists.load(Ordering::SeqCst), 2, "every read goes to the database");
}
