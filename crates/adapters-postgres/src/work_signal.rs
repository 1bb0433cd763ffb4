//! [`PgWorkSignal`]: wakes background workers on PostgreSQL notifications, which the statements that make work send
//! from inside their transaction, so that a wake-up arrives only once the work is committed, on every instance:
//! relays on `taskflow_work` (events appended: a task changed, the overdue scan), senders on `taskflow_deliveries`
//! (a relay made deliveries, a release or a retry made them due), live event streams on `taskflow_events` (a relay
//! published events). One listener serves all three ([`PgChannelSignal`] for the last two).
//!
//! It listens on ONE dedicated connection (a pool of its own with one connection, made with the storage pool's
//! connection options), never on a pooled one: a pooled connection would be handed to other statements, and a
//! listener would hold a slot of the request pool forever.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use taskflow_application::ports::WorkSignal;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::outbox::{DELIVERY_CHANNEL, FEED_CHANNEL, WORK_CHANNEL};
use crate::storage::PgStorage;

/// The first wait before reconnecting after a failure; it doubles up to [`MAX_BACKOFF`].
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Wakes workers on PostgreSQL notifications; clones share one listener. The listening task ends when the
/// shutdown token given to [`PgWorkSignal::listen`] is cancelled or when the last clone is dropped.
///
/// As a [`WorkSignal`] it wakes the relays (`taskflow_work`: events appended); [`PgWorkSignal::deliveries`] and
/// [`PgWorkSignal::feed`] are the signals of the other channels, on the same connection.
#[derive(Clone)]
pub struct PgWorkSignal {
    inner: Arc<Inner>,
}

struct Inner {
    /// Relays: events were appended.
    work: Notify,
    /// Senders: deliveries were made or made due.
    deliveries: Notify,
    /// Live event streams: events were published.
    feed: Notify,
    stop: CancellationToken,
}

impl Inner {
    fn notify(&self, channel: Channel) -> &Notify {
        match channel {
            Channel::Work => &self.work,
            Channel::Deliveries => &self.deliveries,
            Channel::Feed => &self.feed,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl std::fmt::Debug for PgWorkSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWorkSignal").field("stopped", &self.inner.stop.is_cancelled()).finish()
    }
}

impl PgWorkSignal {
    /// Starts listening on a dedicated connection to the database of `storage` (same server, credentials and TLS
    /// settings), reconnecting with backoff until `shutdown` is cancelled or the signal is dropped.
    ///
    /// Must be called inside a Tokio runtime.
    #[must_use]
    pub fn listen(storage: &PgStorage, shutdown: &CancellationToken) -> Self {
        let options = (*storage.connection().get_postgres_connection_pool().connect_options()).clone();
        let stop = shutdown.child_token();
        let inner =
            Arc::new(Inner { work: Notify::new(), deliveries: Notify::new(), feed: Notify::new(), stop: stop.clone() });
        tokio::spawn(run(options, Arc::downgrade(&inner), stop));
        Self { inner }
    }

    /// The signal of deliveries made or made due (`taskflow_deliveries`), on the same listening connection.
    #[must_use]
    pub fn deliveries(&self) -> PgChannelSignal {
        PgChannelSignal { inner: Arc::clone(&self.inner), channel: Channel::Deliveries }
    }

    /// The signal of published events (`taskflow_events`), on the same listening connection.
    #[must_use]
    pub fn feed(&self) -> PgChannelSignal {
        PgChannelSignal { inner: Arc::clone(&self.inner), channel: Channel::Feed }
    }
}

impl WorkSignal for PgWorkSignal {
    fn wait(&self) -> BoxFuture<'_, ()> {
        listen(&self.inner.work)
    }
}

/// The wake-ups of one channel but the relays': made by [`PgWorkSignal::deliveries`] and [`PgWorkSignal::feed`],
/// sharing its listener.
#[derive(Clone)]
pub struct PgChannelSignal {
    inner: Arc<Inner>,
    channel: Channel,
}

impl std::fmt::Debug for PgChannelSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgChannelSignal")
            .field("channel", &self.channel)
            .field("stopped", &self.inner.stop.is_cancelled())
            .finish()
    }
}

impl WorkSignal for PgChannelSignal {
    fn wait(&self) -> BoxFuture<'_, ()> {
        listen(self.inner.notify(self.channel))
    }
}

/// A wait on `notify` that counts from now: `notify_waiters` reaches a `Notified` from its creation on.
fn listen(notify: &Notify) -> BoxFuture<'_, ()> {
    let mut notified = Box::pin(notify.notified());
    notified.as_mut().enable();
    notified
}

/// The channels listened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Work,
    Deliveries,
    Feed,
}

impl Channel {
    const ALL: [Self; 3] = [Self::Work, Self::Deliveries, Self::Feed];

    fn name(self) -> &'static str {
        match self {
            Self::Work => WORK_CHANNEL,
            Self::Deliveries => DELIVERY_CHANNEL,
            Self::Feed => FEED_CHANNEL,
        }
    }
}

/// Wakes the waiters of `channel`, or of every channel with `None` (after (re)connecting, since notifications sent
/// while nobody listened are lost); `false` once the signal was dropped (the task should end).
fn wake(signal: &Weak<Inner>, channel: Option<Channel>) -> bool {
    let Some(inner) = signal.upgrade() else { return false };
    for c in Channel::ALL {
        if channel.is_none_or(|only| only == c) {
            inner.notify(c).notify_waiters();
        }
    }
    true
}

async fn connect(options: PgConnectOptions) -> Result<PgListener, sea_orm::sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    // The pool is this listener's alone; nobody closes it but the drop of the listener.
    listener.ignore_pool_close_event(true);
    listener.listen_all(Channel::ALL.map(Channel::name)).await?;
    Ok(listener)
}

async fn run(options: PgConnectOptions, signal: Weak<Inner>, stop: CancellationToken) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let connected = tokio::select! {
            () = stop.cancelled() => return,
            connected = tokio::time::timeout(CONNECT_TIMEOUT, connect(options.clone())) => connected,
        };
        match connected {
            Ok(Ok(mut listener)) => {
                backoff = MIN_BACKOFF;
                // Notifications sent while nobody listened are lost: wake everyone to look for themselves.
                if !wake(&signal, None) {
                    return;
                }
                loop {
                    let next = tokio::select! {
                        () = stop.cancelled() => return,
                        next = listener.try_recv() => next,
                    };
                    match next {
                        // A notification, or (`None`) the connection was lost and made again: some may have been
                        // missed.
                        Ok(notification) => {
                            let which =
                                notification.and_then(|n| Channel::ALL.into_iter().find(|c| c.name() == n.channel()));
                            if !wake(&signal, which) {
                                return;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "work signal: listening connection failed; reconnecting");
                            break;
                        }
                    }
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, "work signal: cannot listen; retrying"),
            Err(_) => tracing::warn!(timeout = ?CONNECT_TIMEOUT, "work signal: connecting timed out; retrying"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
