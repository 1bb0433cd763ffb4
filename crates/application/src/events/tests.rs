//! The live event hub over the in-memory store: who sees what, resuming without gap or duplicate, the bounds (slow
//! streams, streams per user and per instance), and the ends of a stream (token expiry, deleted user, shutdown).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::TimeDelta;
use claims::assert_matches;
use futures::{FutureExt as _, StreamExt as _};
use taskflow_domain::EventId;
use taskflow_domain::policy::Actor;
use taskflow_domain::ports::{Clock as _, DeliveryQueue, EventFeed};
use taskflow_domain::task::{NewTask, TaskTitle};

use super::{EventStream, LiveEvents, LiveSettings, OnSlow, Viewer};
use crate::error::AppError;
use crate::tasks::CreateTask;
use crate::test_support::{World, world};

fn hub_over(w: &World, settings: LiveSettings) -> Arc<LiveEvents> {
    let feed: Arc<dyn EventFeed> = Arc::new(w.store.clone());
    Arc::new(LiveEvents::new(feed, Arc::clone(&w.deps.revoked_users), settings))
}

async fn started(w: &World, settings: LiveSettings) -> Arc<LiveEvents> {
    let hub = hub_over(w, settings);
    hub.start().await.unwrap();
    hub
}

fn viewer(w: &World, actor: Actor) -> Viewer {
    Viewer { actor, expires_at: w.clock.now() + TimeDelta::minutes(15) }
}

/// Creates a task for `actor`; returns the id of its `task.created` event once the relay has published it and the
/// hub has pushed it.
async fn create(w: &World, hub: &LiveEvents, actor: Actor, title: &str) -> EventId {
    let new = CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None };
    let id = w.tasks.create_task(actor, new).await.unwrap().task.id();
    w.store.relay(100, w.clock.now()).await.unwrap();
    hub.poll().await.unwrap();
    w.deps.events.history(id, None, 1).await.unwrap()[0].id
}

/// The events a stream holds right now, without waiting; `None` at the end when the stream has ended.
fn ready(stream: &mut EventStream) -> (Vec<EventId>, bool) {
    let mut ids = Vec::new();
    loop {
        match stream.next().now_or_never() {
            Some(Some(Ok(e))) => ids.push(e.event.id),
            Some(Some(Err(e))) => panic!("stream failed: {e}"),
            Some(None) => return (ids, true),
            None => return (ids, false),
        }
    }
}

async fn open(hub: &Arc<LiveEvents>, viewer: Viewer, last: Option<EventId>) -> EventStream {
    hub.open(viewer, last.map(|id| id.to_string()).as_deref(), None).await.unwrap()
}

#[tokio::test]
async fn a_user_gets_their_own_events_only_and_an_admin_gets_all() {
    let w = world();
    let hub = started(&w, LiveSettings::default()).await;
    let (_, alice) = w.user("alice@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let admin = w.admin("root@example.com").await;
    let mut alices = open(&hub, viewer(&w, alice), None).await;
    let mut bobs = open(&hub, viewer(&w, bob), None).await;
    let mut admins = open(&hub, viewer(&w, admin), None).await;

    let a1 = create(&w, &hub, alice, "a1").await;
    let b1 = create(&w, &hub, bob, "b1").await;
    let a2 = create(&w, &hub, alice, "a2").await;

    assert_eq!(ready(&mut alices), (vec![a1, a2], false));
    assert_eq!(ready(&mut bobs), (vec![b1], false));
    assert_eq!(ready(&mut admins), (vec![a1, b1, a2], false));
    assert_eq!(hub.open_streams(), 3);
    drop(bobs);
    assert_eq!(hub.open_streams(), 2, "a dropped stream is unregistered");
}

#[tokio::test]
async fn last_event_id_replays_exactly_what_was_missed_then_goes_live() {
    let w = world();
    let settings = LiveSettings { page: 2, ..LiveSettings::default() };
    let hub = started(&w, settings).await;
    let (_, alice) = w.user("alice@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let mut first = open(&hub, viewer(&w, alice), None).await;
    let e1 = create(&w, &hub, alice, "1").await;
    assert_eq!(ready(&mut first).0, vec![e1]);
    drop(first);

    // Missed while disconnected: four of Alice's (more than a replay page) and one of Bob's she must not see.
    let mut missed = Vec::new();
    for title in ["2", "3", "4"] {
        missed.push(create(&w, &hub, alice, title).await);
    }
    create(&w, &hub, bob, "bob's").await;
    missed.push(create(&w, &hub, alice, "5").await);

    let mut resumed = open(&hub, viewer(&w, alice), Some(e1)).await;
    let live = create(&w, &hub, alice, "6").await;
    let mut expected = missed.clone();
    expected.push(live);
    assert_eq!(ready(&mut resumed), (expected, false), "the missed ones in order, then the live one, once each");
}

#[tokio::test]
async fn a_client_that_resumes_ahead_of_this_hub_gets_nothing_twice() {
    let w = world();
    let hub = started(&w, LiveSettings::default()).await;
    let (_, alice) = w.user("alice@example.com").await;
    // Published, but this hub has not read them yet (another instance's stream showed them to the client).
    let mut ids = Vec::new();
    for title in ["1", "2", "3"] {
        let new = CreateTask { task: NewTask::new(TaskTitle::parse(title).unwrap()), user_id: None };
        let task = w.tasks.create_task(alice, new).await.unwrap().task.id();
        ids.push(w.deps.events.history(task, None, 1).await.unwrap()[0].id);
    }
    w.store.relay(100, w.clock.now()).await.unwrap();
    let mut resumed = open(&hub, viewer(&w, alice), Some(ids[1])).await;
    hub.poll().await.unwrap();
    assert_eq!(ready(&mut resumed), (vec![ids[2]], false));
}

#[tokio::test]
async fn a_stream_that_does_not_keep_up_is_dropped_and_its_connection_closed() {
    let w = world();
    let settings = LiveSettings { stream_buffer: 4, ..LiveSettings::default() };
    let hub = started(&w, settings).await;
    let (_, alice) = w.user("alice@example.com").await;
    let closed = Arc::new(AtomicUsize::new(0));
    let on_slow: OnSlow = {
        let closed = Arc::clone(&closed);
        Box::new(move || {
            closed.fetch_add(1, Ordering::SeqCst);
        })
    };
    let mut slow = hub.open(viewer(&w, alice), None, Some(on_slow)).await.unwrap();
    let mut reading = open(&hub, viewer(&w, alice), None).await;
    let mut created = Vec::new();
    for i in 0..10 {
        created.push(create(&w, &hub, alice, &format!("task {i}")).await);
        // One stream keeps up.
        assert_eq!(ready(&mut reading).0.len(), 1);
    }
    assert_eq!(closed.load(Ordering::SeqCst), 1, "its connection is closed once");
    assert_eq!(hub.open_streams(), 1, "only the one that kept up is left");
    // What it held is bounded by its buffer, and it ends after that.
    assert_eq!(ready(&mut slow), (created[..4].to_vec(), true));
}

#[tokio::test]
async fn streams_end_when_their_token_expires_or_their_user_is_deleted() {
    let w = world();
    let hub = started(&w, LiveSettings::default()).await;
    let (_, alice) = w.user("alice@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let admin = w.admin("root@example.com").await;
    let short = Viewer { actor: alice, expires_at: w.clock.now() + TimeDelta::minutes(1) };
    let mut expiring = open(&hub, short, None).await;
    let mut lasting = open(&hub, viewer(&w, alice), None).await;
    let mut bobs = open(&hub, viewer(&w, bob), None).await;

    w.clock.advance(TimeDelta::minutes(2));
    assert_eq!(hub.sweep(w.clock.now()), 1);
    assert_eq!(ready(&mut expiring), (vec![], true), "the expired one ended");
    assert_eq!(ready(&mut lasting), (vec![], false));

    w.users.delete_user(admin, bob.user_id).await.unwrap();
    assert_eq!(hub.sweep(w.clock.now()), 1);
    assert_eq!(ready(&mut bobs), (vec![], true), "the deleted user's ended");
    assert_eq!(ready(&mut lasting), (vec![], false));
    assert_eq!(hub.open_streams(), 1);
}

#[tokio::test]
async fn streams_are_refused_past_the_bounds_and_while_not_open() {
    let w = world();
    let (_, alice) = w.user("alice@example.com").await;
    let (_, bob) = w.user("bob@example.com").await;
    let settings = LiveSettings { max_streams: 3, max_streams_per_user: 2, ..LiveSettings::default() };
    let hub = hub_over(&w, settings);
    assert_matches!(hub.open(viewer(&w, alice), None, None).await, Err(AppError::Busy(_)), "not started");
    hub.start().await.unwrap();

    let _a1 = open(&hub, viewer(&w, alice), None).await;
    let a2 = open(&hub, viewer(&w, alice), None).await;
    assert_matches!(hub.open(viewer(&w, alice), None, None).await, Err(AppError::TooMany(_)));
    let _b1 = open(&hub, viewer(&w, bob), None).await;
    assert_matches!(hub.open(viewer(&w, bob), None, None).await, Err(AppError::Busy(_)), "the instance is full");
    drop(a2);
    let mut b2 = open(&hub, viewer(&w, bob), None).await;

    hub.close();
    assert_eq!(hub.open_streams(), 0);
    assert_eq!(ready(&mut b2), (vec![], true), "closing ends the open streams");
    assert_matches!(hub.open(viewer(&w, bob), None, None).await, Err(AppError::Busy(_)), "closed");
}

#[tokio::test]
async fn a_last_event_id_that_is_not_a_published_event_is_refused() {
    let w = world();
    let hub = started(&w, LiveSettings::default()).await;
    let (_, alice) = w.user("alice@example.com").await;
    for junk in ["", "not-an-id", "00000000-0000-0000-0000-000000000000"] {
        let opened = hub.open(viewer(&w, alice), Some(junk), None).await;
        assert_matches!(opened, Err(AppError::Validation(ref e)) if e[0].field == "Last-Event-ID", "{junk:?}");
    }
    assert_eq!(hub.open_streams(), 0, "a refused open registers nothing");
}

/// A feed that counts the reads made through it: of events, and of the head.
struct CountingFeed {
    inner: taskflow_adapters_memory::InMemoryStore,
    reads: AtomicUsize,
    heads: AtomicUsize,
}

#[async_trait::async_trait]
impl EventFeed for CountingFeed {
    async fn head(&self) -> Result<taskflow_domain::ports::FeedPosition, taskflow_domain::RepoError> {
        self.heads.fetch_add(1, Ordering::SeqCst);
        self.inner.head().await
    }

    async fn position_of(
        &self,
        id: EventId,
    ) -> Result<Option<taskflow_domain::ports::FeedPosition>, taskflow_domain::RepoError> {
        self.inner.position_of(id).await
    }

    async fn published(
        &self,
        after: taskflow_domain::ports::FeedPosition,
        until: Option<taskflow_domain::ports::FeedPosition>,
        owner: Option<taskflow_domain::UserId>,
        limit: usize,
    ) -> Result<
        Vec<(taskflow_domain::ports::FeedPosition, taskflow_domain::events::DomainEvent)>,
        taskflow_domain::RepoError,
    > {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.published(after, until, owner, limit).await
    }
}

#[tokio::test]
async fn with_no_stream_open_the_hub_reads_nothing_and_a_first_stream_starts_at_the_head() {
    let w = world();
    let feed =
        Arc::new(CountingFeed { inner: w.store.clone(), reads: AtomicUsize::new(0), heads: AtomicUsize::new(0) });
    let hub = Arc::new(LiveEvents::new(feed.clone(), Arc::clone(&w.deps.revoked_users), LiveSettings::default()));
    hub.start().await.unwrap();
    let (_, alice) = w.user("alice@example.com").await;
    hub.poll().await.unwrap();
    for title in ["unseen 1", "unseen 2", "unseen 3"] {
        create(&w, &hub, alice, title).await;
    }
    assert_eq!(feed.reads.load(Ordering::SeqCst), 0, "no events read while nobody listens, news or not");
    assert_eq!(feed.heads.load(Ordering::SeqCst), 1, "nor the head, but once at the start");

    // A stream opened now gets what follows, not what came before; a second one costs no head read.
    let mut stream = open(&hub, viewer(&w, alice), None).await;
    let mut second = open(&hub, viewer(&w, alice), None).await;
    let next = create(&w, &hub, alice, "seen").await;
    assert_eq!(ready(&mut stream), (vec![next], false));
    assert_eq!(ready(&mut second), (vec![next], false));
    assert_eq!(feed.heads.load(Ordering::SeqCst), 2, "the first stream read the head; the second did not");
}
