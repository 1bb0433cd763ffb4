//! The event-feed contract: events join the feed when relayed, numbered after everything published before, each once,
//! in each task's commit order, even when relays run concurrently; reads by range and owner.
//!
//! Every case takes fresh [`QueuePorts`].

use std::collections::{HashMap, HashSet};

use taskflow_domain::events::{DomainEvent, TaskEventKind};
use taskflow_domain::ports::FeedPosition;
use taskflow_domain::task::{Task, TaskDescription, TaskPatch};
use taskflow_domain::{EventId, UserId};

use crate::QueuePorts;
use crate::fixtures::{TaskSpec, at, insert_tasks, stored_user};
use crate::storage::event;

/// Stores a task of `owner` and commits its `task.created` event.
async fn created(ports: &QueuePorts, owner: UserId) -> (Task, EventId) {
    let task = TaskSpec::new(owner, at(0)).build();
    insert_tasks(&ports.storage, std::slice::from_ref(&task)).await;
    let e = event(TaskEventKind::Created, &task);
    commit(ports, std::slice::from_ref(&e)).await;
    (task, e.id)
}

async fn commit(ports: &QueuePorts, events: &[DomainEvent]) {
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.outbox().append(events).await.expect("append");
    tx.commit().await.expect("commit");
}

/// Updates `task` (a new version) and commits its `task.updated` event, as a command does: in one unit of work.
async fn updated(ports: &QueuePorts, task: &Task, minute: i64) -> (Task, EventId) {
    let mut changed = task.clone();
    changed.apply(
        TaskPatch {
            description: Some(Some(TaskDescription::parse(&format!("v{minute}")).expect("description"))),
            ..TaskPatch::default()
        },
        at(minute),
    );
    let e = event(TaskEventKind::Updated, &changed);
    let tx = ports.storage.uow.begin().await.expect("begin");
    tx.tasks().update(&changed, task.version()).await.expect("update");
    tx.outbox().append(std::slice::from_ref(&e)).await.expect("append");
    tx.commit().await.expect("commit");
    (changed, e.id)
}

async fn everything(ports: &QueuePorts) -> Vec<(FeedPosition, DomainEvent)> {
    ports.feed.published(FeedPosition::START, None, None, 10_000).await.expect("read the feed")
}

fn ids(events: &[(FeedPosition, DomainEvent)]) -> Vec<EventId> {
    events.iter().map(|(_, e)| e.id).collect()
}

/// Nothing is in the feed before it is relayed; relaying publishes in log order, numbered after the head.
pub async fn events_join_the_feed_when_relayed_in_log_order(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let (_, first) = created(&ports, ann.id()).await;
    let (_, second) = created(&ports, ann.id()).await;
    let (_, third) = created(&ports, ann.id()).await;

    // Act / Assert
    assert_eq!(ports.feed.head().await.expect("head"), FeedPosition::START, "nothing relayed, nothing published");
    assert!(everything(&ports).await.is_empty());
    assert_eq!(ports.feed.position_of(first).await.expect("position"), None, "not published yet");

    ports.deliveries.relay(2, at(1)).await.expect("relay");
    let published = everything(&ports).await;
    assert_eq!(ids(&published), vec![first, second], "the oldest two, in order");
    let head = ports.feed.head().await.expect("head");
    assert_eq!(head, published[1].0, "the head is the last position");
    assert!(published[0].0 < published[1].0 && published[0].0 > FeedPosition::START);
    assert_eq!(ports.feed.position_of(second).await.expect("position"), Some(published[1].0));

    ports.deliveries.relay(10, at(2)).await.expect("relay");
    let after_head = ports.feed.published(head, None, None, 10).await.expect("read");
    assert_eq!(ids(&after_head), vec![third], "a reader at the head gets only what came next");
    assert!(after_head[0].0 > head);
    assert_eq!(ports.feed.position_of(EventId::from_uuid(uuid::Uuid::now_v7())).await.expect("position"), None);
}

/// `published` honours its range (after, until], its owner and its limit.
pub async fn the_feed_is_read_by_range_owner_and_limit(ports: QueuePorts) {
    // Arrange
    let ann = stored_user(&ports.storage, "ann").await;
    let bob = stored_user(&ports.storage, "bob").await;
    let mut all = Vec::new();
    for owner in [ann.id(), bob.id(), ann.id(), bob.id(), ann.id()] {
        all.push(created(&ports, owner).await.1);
    }
    ports.deliveries.relay(100, at(1)).await.expect("relay");
    let published = everything(&ports).await;
    assert_eq!(ids(&published), all);
    let p = |i: usize| published[i].0;

    // Act
    let anns = ports.feed.published(FeedPosition::START, None, Some(ann.id()), 10).await.expect("read");
    let middle = ports.feed.published(p(0), Some(p(3)), None, 10).await.expect("read");
    let anns_middle = ports.feed.published(p(0), Some(p(3)), Some(ann.id()), 10).await.expect("read");
    let limited = ports.feed.published(p(1), None, None, 2).await.expect("read");
    let past_the_end = ports.feed.published(p(4), None, None, 10).await.expect("read");

    // Assert
    assert_eq!(ids(&anns), vec![all[0], all[2], all[4]]);
    assert_eq!(ids(&middle), vec![all[1], all[2], all[3]], "after is excluded, until included");
    assert_eq!(ids(&anns_middle), vec![all[2]]);
    assert_eq!(ids(&limited), vec![all[2], all[3]]);
    assert!(past_the_end.is_empty());
    assert!(anns.iter().all(|(_, e)| e.task.owner() == ann.id()));
}

/// Relays running at once publish every event exactly once, at distinct positions, and the events of each task
/// in their commit order (by version).
pub async fn concurrent_relays_publish_each_event_once_in_commit_order_per_task(ports: QueuePorts) {
    // Arrange: 6 tasks, 5 versions each, written in an interleaved order.
    let ann = stored_user(&ports.storage, "ann").await;
    let mut tasks = Vec::new();
    let mut expected = HashSet::new();
    for _ in 0..6 {
        let (task, id) = created(&ports, ann.id()).await;
        expected.insert(id);
        tasks.push(task);
    }
    for minute in 1..5 {
        for task in &mut tasks {
            let (changed, id) = updated(&ports, task, minute).await;
            expected.insert(id);
            *task = changed;
        }
    }

    // Act: four relays at once, one or two events each, until nothing is left, while a reader follows the feed
    // from where it last stood (as the live streams' hub does).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (feed, done) = (ports.feed.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = FeedPosition::START;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = feed.published(after, None, None, 1_000).await.expect("follow the feed");
                after = page.last().map_or(after, |(p, _)| *p);
                seen.extend(page.into_iter().map(|(_, e)| e.id));
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    loop {
        let rounds = (0..4).map(|i| {
            let deliveries = ports.deliveries.clone();
            tokio::spawn(async move { deliveries.relay(1 + i % 2, at(10)).await.expect("relay").events })
        });
        let relayed: usize = futures::future::join_all(rounds).await.into_iter().map(|r| r.expect("relay task")).sum();
        if relayed == 0 {
            break;
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let followed = reader.await.expect("reader");

    // Assert
    let published = everything(&ports).await;
    assert_eq!(followed, ids(&published), "a reader that only moves forward misses nothing and sees it in order");
    let got: HashSet<EventId> = ids(&published).into_iter().collect();
    assert_eq!((published.len(), got), (expected.len(), expected), "every event once");
    let positions: HashSet<FeedPosition> = published.iter().map(|(p, _)| *p).collect();
    assert_eq!(positions.len(), published.len(), "distinct positions");
    assert!(published.windows(2).all(|w| w[0].0 < w[1].0), "read in position order");
    let mut last_version: HashMap<_, i64> = HashMap::new();
    for (_, e) in &published {
        let version = e.task.version().get();
        let last = last_version.insert(e.task.id(), version).unwrap_or(0);
        assert!(version > last, "task {} went from version {last} to {version}", e.task.id());
    }
}
