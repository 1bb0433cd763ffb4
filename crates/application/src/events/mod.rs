//! Live events: every open event stream of this instance fed from one reader of the [`EventFeed`].
//!
//! - One [`LiveEvents`] per instance reads the feed forward from where it stands ([`LiveEvents::poll`], called by
//!   one task whenever the feed signals new events, and on a short fallback period) and pushes each event to the
//!   streams allowed to see it: its owner's, and admins'. The feed is the source of truth; a wake-up only says when
//!   to look, so a lost one delays events and never skips them.
//! - Each stream has a bounded buffer. A stream whose buffer is full when an event arrives is too slow: it is
//!   dropped (its connection is closed through the callback given when it was opened), and its client resumes with
//!   `Last-Event-ID`. Nothing grows with a slow client.
//! - Opening a stream ([`LiveEvents::open`]) registers it at the hub's position `p` first, then replays from the feed
//!   what the client missed up to `p`; everything after `p` arrives pushed. No gap, no duplicate.
//! - A stream ends when the access token it was opened with expires or its user is deleted ([`LiveEvents::sweep`]),
//!   so nobody keeps receiving what they may no longer see for longer than one token lifetime; and all end at
//!   [`LiveEvents::close`] (shutdown).

mod follow;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::channel::mpsc;
use taskflow_domain::RepoError;
use taskflow_domain::UserId;
use taskflow_domain::events::DomainEvent;
use taskflow_domain::policy::{Actor, TaskScope};
use taskflow_domain::ports::{EventFeed, FeedPosition};

use crate::auth::RevokedUsers;
use crate::error::AppError;

pub use follow::EventStream;

/// Gauge: event streams open on this instance.
pub const EVENT_STREAMS_OPEN: &str = "event_streams_open";
/// Counter: events pushed to streams (one per event per stream).
pub const EVENT_STREAM_EVENTS: &str = "event_stream_events_total";
/// Counter: streams dropped because their client did not keep up.
pub const EVENT_STREAM_SLOW_DROPS: &str = "event_stream_slow_clients_dropped_total";

/// The limits of live events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// Events one stream may have waiting to be sent; one more and the stream is dropped as too slow.
    pub stream_buffer: usize,
    /// Streams this instance holds at most; more are refused as busy.
    pub max_streams: usize,
    /// Streams one user may hold at once on this instance; more are refused as too many.
    pub max_streams_per_user: usize,
    /// Events read from the feed per statement, by the hub and by replays.
    pub page: usize,
    /// Once a read of the hub's loop has pushed [`Self::batch_after`] events to streams or more, the least time
    /// before the next read: what commits meanwhile is read at once and reaches each stream in one write, not one
    /// write per event. A read that pushed fewer, or a signal after a quiet spell, is followed by a read at once.
    /// Zero: a read per signal.
    pub batch_interval: Duration,
    /// How many events pushed to streams by one read (one per event per stream) make the hub busy enough to batch
    /// its next read.
    pub batch_after: u64,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            stream_buffer: 256,
            max_streams: 16_384,
            max_streams_per_user: 128,
            page: 500,
            batch_interval: Duration::from_millis(50),
            batch_after: 64,
        }
    }
}

/// An event as streams send it: with its feed position (the resume point) and, once one stream asked for it, its
/// encoding, which every other stream then shares.
#[derive(Debug)]
pub struct LiveEvent {
    /// Where it stands in the feed.
    pub position: FeedPosition,
    /// The event.
    pub event: DomainEvent,
    encoded: OnceLock<String>,
}

impl LiveEvent {
    /// `event`, published at `position`, not encoded yet.
    #[must_use]
    pub fn new(position: FeedPosition, event: DomainEvent) -> Self {
        Self { position, event, encoded: OnceLock::new() }
    }

    /// The event encoded by `encode`, which runs once for all the streams that send it.
    pub fn encoded(&self, encode: impl FnOnce(&DomainEvent) -> String) -> &str {
        self.encoded.get_or_init(|| encode(&self.event))
    }
}

/// Who opened a stream, and until when their credentials hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The caller.
    pub actor: Actor,
    /// When the access token the stream was opened with expires: the stream ends then.
    pub expires_at: DateTime<Utc>,
}

/// Called once when a stream is dropped as too slow, to close its connection (which may be stuck writing to a client
/// that does not read, and so would never notice the stream ending).
pub type OnSlow = Box<dyn FnOnce() + Send>;

/// The live event hub of one instance. See the module documentation.
pub struct LiveEvents {
    feed: Arc<dyn EventFeed>,
    revoked: Arc<RevokedUsers>,
    settings: LiveSettings,
    hub: Mutex<Hub>,
}

impl std::fmt::Debug for LiveEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hub = self.lock();
        f.debug_struct("LiveEvents").field("phase", &hub.phase).field("streams", &hub.count).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started: where the feed stands is not known yet.
    Starting,
    /// Every event after this position will be pushed.
    Open(FeedPosition),
    /// Shut down: no stream is open and none may open.
    Closed,
}

struct Stream {
    id: u64,
    user: UserId,
    expires_at: DateTime<Utc>,
    tx: mpsc::Sender<Arc<LiveEvent>>,
    on_slow: Option<OnSlow>,
}

/// The open streams: a user's by owner (they see their own tasks' events), admins' apart (they see all).
struct Hub {
    phase: Phase,
    next_id: u64,
    by_owner: HashMap<UserId, Vec<Stream>>,
    admins: Vec<Stream>,
    count: usize,
}

impl Hub {
    fn streams_of(&self, user: UserId) -> usize {
        self.by_owner.get(&user).map_or(0, Vec::len) + self.admins.iter().filter(|s| s.user == user).count()
    }

    fn set_count(&mut self, count: usize) {
        self.count = count;
        metrics::gauge!(EVENT_STREAMS_OPEN).set(count as f64);
    }

    /// Keeps only the streams `keep` accepts; the others end once they have sent what they hold.
    fn retain(&mut self, mut keep: impl FnMut(&Stream) -> bool) {
        self.admins.retain(|s| keep(s));
        self.by_owner.retain(|_, streams| {
            streams.retain(|s| keep(s));
            !streams.is_empty()
        });
        let count = self.by_owner.values().map(Vec::len).sum::<usize>() + self.admins.len();
        self.set_count(count);
    }

    /// Removes the stream `id` of `user` (in the admins' list if `admin`).
    fn remove(&mut self, id: u64, user: UserId, admin: bool) {
        let streams = if admin { Some(&mut self.admins) } else { self.by_owner.get_mut(&user) };
        let Some(streams) = streams else { return };
        let Some(index) = streams.iter().position(|s| s.id == id) else { return };
        streams.swap_remove(index);
        if !admin && streams.is_empty() {
            self.by_owner.remove(&user);
        }
        self.set_count(self.count - 1);
    }

    /// Pushes `event` to the streams that may see it; returns how many took it. Streams that are full are
    /// dropped as too slow, and their connections closed.
    fn push(&mut self, event: &Arc<LiveEvent>) -> u64 {
        let owner = event.event.task.owner();
        let mut pushed = 0;
        let mut slow = 0_u64;
        let mut offer = |streams: &mut Vec<Stream>| {
            streams.retain_mut(|s| match s.tx.try_send(Arc::clone(event)) {
                Ok(()) => {
                    pushed += 1;
                    true
                }
                Err(e) if e.is_full() => {
                    slow += 1;
                    tracing::info!(user_id = %s.user, "event stream dropped: its client does not keep up");
                    if let Some(close) = s.on_slow.take() {
                        close();
                    }
                    false
                }
                // The stream is gone; its subscription removes it too.
                Err(_) => false,
            });
        };
        if let Some(streams) = self.by_owner.get_mut(&owner) {
            offer(streams);
            if streams.is_empty() {
                self.by_owner.remove(&owner);
            }
        }
        offer(&mut self.admins);
        if slow > 0 {
            metrics::counter!(EVENT_STREAM_SLOW_DROPS).increment(slow);
            self.set_count(self.count - usize::try_from(slow).unwrap_or(self.count));
        }
        pushed
    }
}

impl LiveEvents {
    /// A hub over `feed`, not started yet: streams are refused as busy until [`Self::start`] succeeds.
    #[must_use]
    pub fn new(feed: Arc<dyn EventFeed>, revoked: Arc<RevokedUsers>, settings: LiveSettings) -> Self {
        let hub = Hub { phase: Phase::Starting, next_id: 0, by_owner: HashMap::new(), admins: Vec::new(), count: 0 };
        Self { feed, revoked, settings, hub: Mutex::new(hub) }
    }

    /// The limits it was built with.
    #[must_use]
    pub fn settings(&self) -> LiveSettings {
        self.settings
    }

    fn lock(&self) -> MutexGuard<'_, Hub> {
        // The hub's state stays consistent at every step, so a panic elsewhere does not poison it for good.
        self.hub.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads where the feed stands and opens the hub there: streams opened from now on get every event published
    /// after it. Does nothing if already started or closed.
    ///
    /// # Errors
    /// The feed's, when it cannot be read (the caller retries).
    pub async fn start(&self) -> Result<(), RepoError> {
        if self.lock().phase != Phase::Starting {
            return Ok(());
        }
        let head = self.feed.head().await?;
        let mut hub = self.lock();
        if hub.phase == Phase::Starting {
            hub.phase = Phase::Open(head);
        }
        Ok(())
    }

    /// Whether [`Self::start`] has succeeded and [`Self::close`] has not been called.
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.lock().phase, Phase::Open(_))
    }

    /// Reads the events published since the last poll and pushes them to the streams; returns how many it pushed
    /// (one per event per stream that took it). With no stream open it reads nothing. Meant to be called by one task
    /// at a time (the instance's hub loop).
    ///
    /// # Errors
    /// The feed's, when it cannot be read; the hub stays where it was, and the next poll reads the same events.
    pub async fn poll(&self) -> Result<u64, RepoError> {
        if self.lock().count == 0 {
            // Nobody to push to: nothing to read, not even the head (a wake-up comes with every publication). The
            // first stream to open moves the hub to where the feed stands then (`subscribe`).
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let Phase::Open(after) = self.lock().phase else { return Ok(total) };
            let batch = self.feed.published(after, None, None, self.settings.page).await?;
            let full = batch.len() == self.settings.page;
            let mut pushed = 0;
            let mut hub = self.lock();
            for (position, event) in batch {
                let Phase::Open(at) = hub.phase else { break };
                if position <= at {
                    continue;
                }
                pushed += hub.push(&Arc::new(LiveEvent::new(position, event)));
                hub.phase = Phase::Open(position);
            }
            drop(hub);
            metrics::counter!(EVENT_STREAM_EVENTS).increment(pushed);
            total += pushed;
            if !full {
                return Ok(total);
            }
        }
    }

    /// Ends the streams whose access token has expired at `now`, or whose user was deleted; returns how many.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let mut hub = self.lock();
        let before = hub.count;
        hub.retain(|s| s.expires_at > now && !self.revoked.contains(s.user));
        before - hub.count
    }

    /// Ends every stream and refuses new ones (shutdown). Streams finish sending what they hold, then end.
    pub fn close(&self) {
        let mut hub = self.lock();
        hub.phase = Phase::Closed;
        hub.retain(|_| false);
    }

    /// The streams open now.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.lock().count
    }

    /// Registers a stream for `viewer`: every event published after the returned position will be pushed to it.
    /// `head` is where the feed stood a moment ago, read because no stream was open: a hub with no stream reads
    /// nothing and stands behind the feed, so the first stream moves it there.
    fn subscribe(
        self: &Arc<Self>,
        viewer: Viewer,
        on_slow: Option<OnSlow>,
        head: Option<FeedPosition>,
    ) -> Result<Subscription, AppError> {
        let mut hub = self.lock();
        let at = match hub.phase {
            Phase::Open(at) => at,
            Phase::Starting => return Err(AppError::Busy("live events are starting")),
            Phase::Closed => return Err(AppError::Busy("this instance is shutting down")),
        };
        // Only while no stream is open: otherwise the hub is pushing from `at`, and so must this stream.
        let at = match head {
            Some(head) if hub.count == 0 && head > at => {
                hub.phase = Phase::Open(head);
                head
            }
            _ => at,
        };
        if hub.count >= self.settings.max_streams {
            return Err(AppError::Busy("this instance holds as many event streams as it may"));
        }
        let user = viewer.actor.user_id;
        if hub.streams_of(user) >= self.settings.max_streams_per_user {
            return Err(AppError::TooMany("you hold as many open event streams as you may; close one first"));
        }
        let (tx, rx) = mpsc::channel(self.settings.stream_buffer.saturating_sub(1));
        hub.next_id += 1;
        let id = hub.next_id;
        let stream = Stream { id, user, expires_at: viewer.expires_at, tx, on_slow };
        let admin = match viewer.actor.task_scope() {
            TaskScope::All => {
                hub.admins.push(stream);
                true
            }
            TaskScope::Owner(owner) => {
                hub.by_owner.entry(owner).or_default().push(stream);
                false
            }
        };
        let count = hub.count + 1;
        hub.set_count(count);
        Ok(Subscription { id, user, admin, at, rx, hub: Arc::downgrade(self) })
    }
}

/// One stream's registration: the events pushed to it, from the position it was registered at. Dropping it
/// unregisters the stream.
struct Subscription {
    id: u64,
    user: UserId,
    admin: bool,
    at: FeedPosition,
    rx: mpsc::Receiver<Arc<LiveEvent>>,
    hub: Weak<LiveEvents>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.lock().remove(self.id, self.user, self.admin);
        }
    }
}
