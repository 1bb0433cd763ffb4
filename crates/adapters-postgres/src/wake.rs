//! [`RelayWake`]: wakes the relays once a request's statement has committed events, off the request's path.
//!
//! A `NOTIFY` sent inside the committing transaction takes a lock that PostgreSQL holds until that commit is flushed,
//! and only one transaction of the database holds it at a time (`PreCommit_Notify` in its `async.c`): every
//! notifying commit waits for the one before it, WAL flush included. `bench/limit.sh` measured the same `INSERT`
//! at 1,250-1,800/s with the `pg_notify` and 2,300-3,100/s without it, and `POST /tasks` at 1,340/s with it in the
//! statement and 2,480/s without. So the request statements (create, update, delete, batch) send none. Once one has
//! returned having appended events, [`RelayWake::poke`] asks a task of the storage to send one
//! `SELECT pg_notify('taskflow_work', '')` on a connection of its own; pokes that arrive while one is being sent
//! are answered by a single next one. One wake-up in flight at a time, at most one per [`MIN_GAP`], however many
//! commits: the lock is taken by the wake-ups alone, never by a request. After a failed wake-up the next waits
//! 100 ms, doubling up to 10 s (as the listener's reconnections do).
//!
//! Still only once the work is committed (the poke follows the statement's answer), on every instance (the
//! notification goes through PostgreSQL to every listener). A request dropped at its `.await` after its commit but
//! before the poke, or a wake-up that fails, leaves its events to the relays' fallback poll (5 s): a late wake-up,
//! never a lost event. Transactions (the unit of work) and the overdue scan are rare and keep their `NOTIFY` inside
//! the transaction.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection as _};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::work_signal::{MAX_BACKOFF, MIN_BACKOFF};

/// The wake-up: the relays listen on `taskflow_work` ([`crate::WORK_CHANNEL`]). Sent as a simple query, so that a
/// proxy counting a request's round trips can tell it apart (`testing::RoundTripCounter`).
pub const WAKE_SQL: &str = "SELECT pg_notify('taskflow_work', '')";

/// The shortest time between two wake-ups: caps them at 500/s, a delay no relay latency goal notices.
const MIN_GAP: Duration = Duration::from_millis(2);

/// How long one wake-up (connecting included) may take before its connection is dropped.
const WAKE_DEADLINE: Duration = Duration::from_secs(5);

/// Wakes the relays after commits; clones share one waking task, which ends with the last clone.
#[derive(Clone, Default)]
pub(crate) struct RelayWake {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Holds one permit while a wake-up is owed.
    pending: Arc<Notify>,
    started: OnceLock<()>,
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl std::fmt::Debug for RelayWake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayWake").field("started", &self.inner.started.get().is_some()).finish()
    }
}

impl RelayWake {
    /// Owes the relays a wake-up (sent soon, by the waking task, which the first poke starts on a connection made
    /// with `options`). Never waits. Must be called inside a Tokio runtime.
    pub(crate) fn poke(&self, options: impl FnOnce() -> PgConnectOptions) {
        self.inner.pending.notify_one();
        self.inner.started.get_or_init(|| {
            tokio::spawn(run(Arc::clone(&self.inner.pending), options(), self.inner.stop.clone()));
        });
    }
}

async fn run(pending: Arc<Notify>, options: PgConnectOptions, stop: CancellationToken) {
    let mut connection = None;
    // After a failure, the wait before the next attempt: connecting again every 2 ms to a server that refuses
    // connections (`too many clients`) while the requests' pool still works would cost it a backend per attempt.
    let mut backoff: Option<Duration> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = pending.notified() => {}
        }
        let started = Instant::now();
        let error = match tokio::time::timeout(WAKE_DEADLINE, wake(&mut connection, &options)).await {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(err.to_string()),
            Err(_) => Some("timed out".to_owned()),
        };
        let pause = match error {
            None => {
                if backoff.take().is_some() {
                    tracing::info!("relays are woken after commits again");
                }
                MIN_GAP
            }
            Some(error) => {
                // Dropped with whatever it was doing: the next wake-up connects afresh.
                connection = None;
                let pause = backoff.map_or(MIN_BACKOFF, |b| (b * 2).min(MAX_BACKOFF));
                if backoff.replace(pause).is_none() {
                    tracing::warn!(error, "cannot wake the relays after a commit; they find the work by polling");
                }
                pause
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(started + pause) => {}
        }
    }
}

async fn wake(connection: &mut Option<PgConnection>, options: &PgConnectOptions) -> Result<(), sqlx::Error> {
    let connection = match connection {
        Some(connection) => connection,
        None => connection.insert(PgConnection::connect_with(options).await?),
    };
    sqlx::raw_sql(WAKE_SQL).execute(connection).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use sea_orm::sqlx::Executor as _;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener};

    use super::{RelayWake, WAKE_SQL};
    use crate::WORK_CHANNEL;
    use crate::testing::fresh_database;

    #[test]
    fn the_wake_up_is_on_the_relays_channel() {
        assert_eq!(WAKE_SQL, format!("SELECT pg_notify('{WORK_CHANNEL}', '')"));
    }

    #[tokio::test]
    async fn pokes_owed_at_once_make_one_wake_up_and_a_later_poke_another() {
        // Arrange: one thread, so that the waking task runs only once the test awaits
        let (url, _guard) = fresh_database().await;
        let options: PgConnectOptions = url.parse().expect("options");
        let mut listener = PgListener::connect(&url).await.expect("listener");
        listener.listen_all([WORK_CHANNEL, "taskflow_test_marker"]).await.expect("listen");
        let wake = RelayWake::default();
        let next = async |listener: &mut PgListener| {
            let received = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await;
            received.expect("a notification in time").expect("the listener").channel().to_owned()
        };
        let mark = async |listener: &mut PgListener| {
            tokio::time::sleep(Duration::from_millis(100)).await;
            listener.execute("SELECT pg_notify('taskflow_test_marker', '')").await.expect("marker");
        };

        // Act: a hundred commits answered before the waker runs
        for _ in 0..100 {
            wake.poke(|| options.clone());
        }

        // Assert: one wake-up, then nothing until the marker
        assert_eq!(next(&mut listener).await, WORK_CHANNEL);
        mark(&mut listener).await;
        assert_eq!(next(&mut listener).await, "taskflow_test_marker", "one wake-up for the hundred pokes");

        // Act & Assert: a later commit is woken for too
        wake.poke(|| unreachable!("the waker is running"));
        assert_eq!(next(&mut listener).await, WORK_CHANNEL);
    }

    #[tokio::test]
    async fn a_server_that_refuses_the_waker_is_tried_again_with_backoff_not_at_every_commit() {
        // Arrange: a "server" that counts connections and closes each at once
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = server.local_addr().expect("address").port();
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        tokio::spawn(async move {
            while let Ok((socket, _)) = server.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        let options = PgConnectOptions::new().host("127.0.0.1").port(port).username("nobody");
        let wake = RelayWake::default();

        // Act: a commit every millisecond for a second
        let until = tokio::time::Instant::now() + Duration::from_secs(1);
        while tokio::time::Instant::now() < until {
            wake.poke(|| options.clone());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        // Assert: 100, 200, 400 ms apart after the first failure, not every 2 ms (about 500)
        let attempts = attempts.load(Ordering::SeqCst);
        assert!((1..=6).contains(&attempts), "{attempts} connection attempts in a second");
    }
}
