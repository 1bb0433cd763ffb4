//! [`PgWorkSignal`]: wakes background workers on `NOTIFY taskflow_work`, which the statements that make work
//! (appending events, relaying, releasing, retrying, the overdue scan) send from inside their transaction, so that
//! a wake-up arrives only once the work is committed, on every instance. The same listener wakes the instance's live
//! event streams ([`PgFeedSignal`]) on `NOTIFY taskflow_events`, which a relay sends when it published events.
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

use crate::outbox::{FEED_CHANNEL, WORK_CHANNEL};
use crate::storage::PgStorage;

/// The first wait before reconnecting after a failure; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Wakes workers on PostgreSQL notifications; clones share one listener. The listening task ends when the
/// shutdown token given to [`PgWorkSignal::listen`] is cancelled or when the last clone is dropped.
#[derive(Clone)]
pub struct PgWorkSignal {
    inner: Arc<Inner>,
}

struct Inner {
    /// Workers.
    work: Notify,
    /// Live event streams.
    feed: Notify,
    stop: CancellationToken,
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
        let inner = Arc::new(Inner { work: Notify::new(), feed: Notify::new(), stop: stop.clone() });
        tokio::spawn(run(options, Arc::downgrade(&inner), stop));
        Self { inner }
    }

    /// The signal of published events, on the same listening connection.
    #[must_use]
    pub fn feed(&self) -> PgFeedSignal {
        PgFeedSignal { inner: Arc::clone(&self.inner) }
    }
}

impl WorkSignal for PgWorkSignal {
    fn wait(&self) -> BoxFuture<'_, ()> {
        listen(&self.inner.work)
    }
}

/// Wakes live event streams on `NOTIFY taskflow_events`; made by [`PgWorkSignal::feed`], sharing its listener.
#[derive(Clone)]
pub struct PgFeedSignal {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgFeedSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgFeedSignal").field("stopped", &self.inner.stop.is_cancelled()).finish()
    }
}

impl WorkSignal for PgFeedSignal {
    fn wait(&self) -> BoxFuture<'_, ()> {
        listen(&self.inner.feed)
    }
}

/// A wait on `notify` that counts from now: `notify_waiters` reaches a `Notified` from its creation on.
fn listen(notify: &Notify) -> BoxFuture<'_, ()> {
    let mut notified = Box::pin(notify.notified());
    notified.as_mut().enable();
    notified
}

/// Which waiters a notification is for.
#[derive(Clone, Copy)]
enum Wake {
    Work,
    Feed,
    /// Both: after (re)connecting, since notifications sent while nobody listened are lost.
    All,
}

/// Wakes the waiters of `which`; `false` once the signal was dropped (the task should end).
fn wake(signal: &Weak<Inner>, which: Wake) -> bool {
    let Some(inner) = signal.upgrade() else { return false };
    if matches!(which, Wake::Work | Wake::All) {
        inner.work.notify_waiters();
    }
    if matches!(which, Wake::Feed | Wake::All) {
        inner.feed.notify_waiters();
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
    listener.listen_all([WORK_CHANNEL, FEED_CHANNEL]).await?;
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
                if !wake(&signal, Wake::All) {
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
                            let which = match notification {
                                Some(n) if n.channel() == WORK_CHANNEL => Wake::Work,
                                Some(n) if n.channel() == FEED_CHANNEL => Wake::Feed,
                                _ => Wake::All,
                            };
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
