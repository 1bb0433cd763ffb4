//! Owed invalidations (issue 7, point 3): a write whose generation bump failed is never hidden by the cache once
//! the store is back, the instance bypasses the cache until the bump is delivered, and then uses it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::policy::{Actor, TaskScope};
use taskflow_domain::ports::TaskReadModel;
use taskflow_domain::query::{SortField, SortOrder, TaskPage, TaskQuery, TaskStats, TaskView};
use taskflow_domain::task::{NewTask, TaskPatch, TaskTitle};
use taskflow_domain::{RepoError, TaskId};

use super::{CachedTaskReadModel, ReadCache};
use crate::ports::CacheStore;
use crate::tasks::{CreateTask, ListTasks, PagingRequest};
use crate::test_support::{World, with_deps, world};

/// What the faulty store does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// Works.
    Up = 0,
    /// Every call fails.
    Down = 1,
    /// Reads and writes work, increments fail (the bump is lost, the stale entries stay readable).
    IncrDown = 2,
    /// Increments never answer (a black-holed link), so only cancellation ends them.
    IncrHangs = 3,
}

/// An in-memory cache store with a fault switch.
struct Faulty {
    inner: Arc<crate::test_support::MapCacheStore>,
    mode: AtomicU8,
}

impl Faulty {
    fn over(inner: Arc<crate::test_support::MapCacheStore>) -> Arc<Self> {
        Arc::new(Self { inner, mode: AtomicU8::new(Mode::Up as u8) })
    }

    fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn mode(&self) -> u8 {
        self.mode.load(Ordering::SeqCst)
    }
}

fn down() -> RepoError {
    RepoError::unavailable(std::io::Error::other("cache store down"))
}

#[async_trait]
impl CacheStore for Faulty {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError> {
        if self.mode() == Mode::Down as u8 {
            return Err(down());
        }
        self.inner.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), RepoError> {
        if self.mode() == Mode::Down as u8 {
            return Err(down());
        }
        self.inner.set(key, value, ttl).await
    }
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, RepoError> {
        match self.mode() {
            m if m == Mode::IncrHangs as u8 => std::future::pending().await,
            m if m == Mode::Up as u8 => self.inner.incr(key, ttl).await,
            _ => Err(down()),
        }
    }
    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        if self.mode() == Mode::Down as u8 {
            return Err(down());
        }
        self.inner.get_generational(generation_key, key_prefix, key_suffix).await
    }
}

/// Counts the listings that reached the database. A slow one reads, counts, then waits, like a query whose
/// answer is on its way back while a write commits.
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
        let page = self.inner.list(query).await;
        self.lists.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        page
    }
    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError> {
        self.inner.stats(scope, now).await
    }
}

/// An instance whose task reads go through `cache`, over the data of `base`.
fn instance(base: &World, cache: Arc<ReadCache>, delay: Duration) -> (World, Arc<Counting>) {
    let counting = Arc::new(Counting { inner: base.deps.task_reads.clone(), lists: AtomicUsize::new(0), delay });
    let deps = crate::Deps {
        task_reads: Arc::new(CachedTaskReadModel::new(counting.clone(), cache.clone())),
        read_cache: cache,
        ..base.deps.clone()
    };
    (with_deps(base.store.clone(), base.clock.clone(), deps), counting)
}

/// One instance over a faulty store with the default debt limit and a 30 s TTL.
fn faulty_world(delay: Duration) -> (World, Arc<Faulty>, Arc<Counting>) {
    let store = Faulty::over(Arc::new(crate::test_support::MapCacheStore::default()));
    let cache = Arc::new(ReadCache::new(store.clone(), Duration::from_secs(30)));
    let (w, counting) = instance(&world(), cache, delay);
    (w, store, counting)
}

fn new_task(title: &str) -> CreateTask {
    CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None }
}

fn retitle(title: &str) -> TaskPatch {
    TaskPatch { title: Some(TaskTitle::parse(title).unwrap()), ..TaskPatch::default() }
}

pub(super) fn first_page() -> ListTasks {
    ListTasks {
        owner: None,
        statuses: vec![],
        priorities: vec![],
        search: None,
        due_before: None,
        due_after: None,
        overdue: None,
        sort: SortField::Title,
        order: SortOrder::Asc,
        paging: PagingRequest::Offset { page: 1, limit: 20 },
    }
}

/// Waits until `counting` has fetched `n` pages from the database.
async fn fetched(counting: &Counting, n: usize) {
    while counting.lists.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long a slow read takes to come back after fetching: far longer than the in-memory write it races.
const SLOW: Duration = Duration::from_millis(1500);

/// The title of task `id` on `actor`'s first page: a read the cache serves (a task by id is never cached: a
/// primary-key probe costs no more than a cache round trip).
pub(super) async fn title(w: &World, actor: Actor, id: TaskId) -> String {
    let page = w.tasks.list_tasks(actor, first_page()).await.unwrap();
    page.items.iter().find(|v| v.task.id() == id).map(|v| v.task.title().as_ref().to_owned()).expect("listed")
}

async fn titles(w: &World, actor: Actor) -> Vec<String> {
    let page = w.tasks.list_tasks(actor, first_page()).await.unwrap();
    page.items.iter().map(|v| v.task.title().as_ref().to_owned()).collect()
}

#[tokio::test]
async fn a_write_whose_invalidation_failed_is_read_fresh_as_soon_as_the_store_is_back() {
    // Arrange: the task, the list and the stats are cached
    let (w, store, _) = faulty_world(Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("before")).await.unwrap().task.id();
    for _ in 0..2 {
        assert_eq!(title(&w, ann, id).await, "before");
        assert_eq!(titles(&w, ann).await, ["before"]);
        assert_eq!(w.tasks.task_stats(ann, None).await.unwrap().total, 1);
    }

    // Act: the store goes away (keeping its data) while the task changes and another is created
    store.set_mode(Mode::Down);
    w.tasks.update_task(ann, id, retitle("after"), None).await.unwrap();
    w.tasks.create_task(ann, new_task("new")).await.unwrap();
    store.set_mode(Mode::Up);

    // Assert: the very next reads show both writes
    assert_eq!(title(&w, ann, id).await, "after");
    assert_eq!(titles(&w, ann).await, ["after", "new"]);
    assert_eq!(w.tasks.task_stats(ann, None).await.unwrap().total, 2);
}

#[tokio::test]
async fn the_cache_is_bypassed_while_a_bump_is_owed_and_used_again_once_it_is_delivered() {
    // Arrange: a write whose bump fails while the stale entry stays readable
    let (w, store, counting) = faulty_world(Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("before")).await.unwrap().task.id();
    assert_eq!(title(&w, ann, id).await, "before");
    store.set_mode(Mode::IncrDown);
    w.tasks.update_task(ann, id, retitle("after"), None).await.unwrap();
    let loads = counting.lists.load(Ordering::SeqCst);

    // Act + Assert: while the bump cannot be delivered every read goes to the database
    for _ in 0..3 {
        assert_eq!(title(&w, ann, id).await, "after");
    }
    assert_eq!(counting.lists.load(Ordering::SeqCst), loads + 3, "the cache is bypassed while a bump is owed");

    // Act + Assert: once the store takes increments, the next read delivers the bump and caching resumes
    store.set_mode(Mode::Up);
    for _ in 0..3 {
        assert_eq!(title(&w, ann, id).await, "after");
    }
    assert_eq!(counting.lists.load(Ordering::SeqCst), loads + 4, "one load, then hits");
    assert!(w.deps.read_cache.resync().await, "nothing is owed any more");
}

#[tokio::test]
async fn a_read_in_flight_across_a_failed_invalidation_does_not_bring_the_old_value_back() {
    // Arrange: a slow read of the task has fetched "v1" and is on its way back
    let (w, store, counting) = faulty_world(SLOW);
    let w = Arc::new(w);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("v1")).await.unwrap().task.id();
    let slow = tokio::spawn({
        let w = w.clone();
        async move { title(&w, ann, id).await }
    });
    fetched(&counting, 1).await;

    // Act: a write whose bump fails, the store returns, a read delivers the bump; then the slow read lands
    store.set_mode(Mode::IncrDown);
    w.tasks.update_task(ann, id, retitle("v2"), None).await.unwrap();
    store.set_mode(Mode::Up);
    let next = title(&w, ann, id).await;
    let slow = slow.await.unwrap();

    // Assert: the old value the slow read carried is not what later reads see
    assert_eq!(slow, "v1", "the slow read was concurrent with the write");
    assert_eq!(next, "v2");
    for _ in 0..2 {
        assert_eq!(title(&w, ann, id).await, "v2", "the late write of v1 is unreachable");
    }
}

#[tokio::test]
async fn a_slow_read_does_not_store_its_value_while_a_bump_is_owed() {
    // Arrange: instance A reaches the shared store through a faulty link, B directly; a slow read on A has
    // fetched "v1" (nothing cached yet) and is on its way back
    let shared = Arc::new(crate::test_support::MapCacheStore::default());
    let link = Faulty::over(shared.clone());
    let base = world();
    let (a, counting) = instance(&base, Arc::new(ReadCache::new(link.clone(), Duration::from_secs(30))), SLOW);
    let (b, _) = instance(&base, Arc::new(ReadCache::new(shared, Duration::from_secs(30))), Duration::ZERO);
    let a = Arc::new(a);
    let (_, ann) = a.user("ann@example.com").await;
    let id = a.tasks.create_task(ann, new_task("v1")).await.unwrap().task.id();
    let slow = tokio::spawn({
        let a = a.clone();
        async move { title(&a, ann, id).await }
    });
    fetched(&counting, 1).await;

    // Act: A's write loses its bump, and the slow read lands while the bump is still owed
    link.set_mode(Mode::IncrDown);
    a.tasks.update_task(ann, id, retitle("v2"), None).await.unwrap();
    assert_eq!(slow.await.unwrap(), "v1", "the slow read was concurrent with the write");

    // Assert: the old value was not stored under the generation every instance still reads
    assert_eq!(title(&b, ann, id).await, "v2");
    link.set_mode(Mode::Up);
    assert_eq!(title(&a, ann, id).await, "v2");
}

#[tokio::test]
async fn an_invalidation_cancelled_after_the_commit_is_owed_not_lost() {
    // Arrange
    let (w, store, _) = faulty_world(Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let id = w.tasks.create_task(ann, new_task("before")).await.unwrap().task.id();
    assert_eq!(title(&w, ann, id).await, "before");

    // Act: the write commits, then is cancelled while its bump hangs
    store.set_mode(Mode::IncrHangs);
    let cancelled =
        tokio::time::timeout(Duration::from_millis(200), w.tasks.update_task(ann, id, retitle("after"), None)).await;
    assert!(cancelled.is_err(), "the bump hung until the deadline");
    store.set_mode(Mode::Up);

    // Assert
    assert_eq!(title(&w, ann, id).await, "after");
}

#[tokio::test]
async fn another_instance_sees_the_write_once_the_owed_bump_is_delivered_by_a_resync() {
    // Arrange: A reaches the shared store through a faulty link, B directly; B has the task cached
    let shared = Arc::new(crate::test_support::MapCacheStore::default());
    let link = Faulty::over(shared.clone());
    let base = world();
    let (a, _) = instance(&base, Arc::new(ReadCache::new(link.clone(), Duration::from_secs(30))), Duration::ZERO);
    let (b, _) = instance(&base, Arc::new(ReadCache::new(shared, Duration::from_secs(30))), Duration::ZERO);
    let (_, ann) = a.user("ann@example.com").await;
    let id = a.tasks.create_task(ann, new_task("before")).await.unwrap().task.id();
    assert_eq!(title(&b, ann, id).await, "before");

    // Act: A writes while its link is down, and the link returns
    link.set_mode(Mode::Down);
    a.tasks.update_task(ann, id, retitle("after"), None).await.unwrap();
    assert!(!a.deps.read_cache.resync().await, "the bump is owed while the link is down");
    link.set_mode(Mode::Up);
    assert_eq!(title(&a, ann, id).await, "after", "A reads its own write at once");
    let delivered = a.deps.read_cache.resync().await;

    // Assert
    assert!(delivered);
    assert_eq!(title(&b, ann, id).await, "after");
}

#[tokio::test]
async fn past_its_bound_the_debt_collapses_to_the_global_generation_and_a_hold_of_two_ttls() {
    // Arrange: two owners cached, a debt limit of two keys, a 2 s TTL (so a hold of 4 s)
    let store = Faulty::over(Arc::new(crate::test_support::MapCacheStore::default()));
    let cache = Arc::new(ReadCache::with_debt_limit(store.clone(), Duration::from_secs(2), 2));
    let (w, counting) = instance(&world(), cache, Duration::ZERO);
    let (_, ann) = w.user("ann@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let ann_task = w.tasks.create_task(ann, new_task("ann v1")).await.unwrap().task.id();
    let bob_task = w.tasks.create_task(bob, new_task("bob v1")).await.unwrap().task.id();
    assert_eq!(title(&w, ann, ann_task).await, "ann v1");
    assert_eq!(title(&w, bob, bob_task).await, "bob v1");

    // Act: two writes owe three keys (two owners and the global one), one more than the bound
    store.set_mode(Mode::IncrDown);
    w.tasks.update_task(ann, ann_task, retitle("ann v2"), None).await.unwrap();
    w.tasks.update_task(bob, bob_task, retitle("bob v2"), None).await.unwrap();
    store.set_mode(Mode::Up);
    let loads = counting.lists.load(Ordering::SeqCst);

    // Assert: fresh at once, from the database during the hold even though the global bump is delivered
    assert_eq!(title(&w, ann, ann_task).await, "ann v2");
    assert_eq!(title(&w, bob, bob_task).await, "bob v2");
    assert_eq!(title(&w, bob, bob_task).await, "bob v2");
    assert_eq!(counting.lists.load(Ordering::SeqCst), loads + 3, "bypassed during the hold");

    // Assert: after the hold the cache is used again, and still fresh
    tokio::time::sleep(Duration::from_millis(5000)).await;
    let loads = counting.lists.load(Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(title(&w, ann, ann_task).await, "ann v2");
    }
    assert_eq!(counting.lists.load(Ordering::SeqCst), loads + 1, "one load, then hits");
}
