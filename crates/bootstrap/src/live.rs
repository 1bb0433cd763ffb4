//! The live event hub's loop: start it where the feed stands, then read what is published whenever the feed signals
//! (and every second regardless, in case a signal was lost), end streams whose token expired or whose user was
//! deleted, and close every stream when the instance stops.
//!
//! Under load, reads are batched: after a read that pushed at least [`LiveSettings::batch_after`] events to streams,
//! the next one waits until [`LiveSettings::batch_interval`] after it, and takes all that committed meanwhile, so
//! that a stream gets its share of them in one write. Every frame a stream sends costs a wake-up, a poll and a
//! `send` (a loopback one also the receiving side's TCP), whatever its size; batching is what keeps a thousand busy
//! streams from costing the writes they watch a fifth of the machine (ADR 0015). A read that pushed fewer, or a
//! signal after a quiet spell, is followed by a read at once: light fan-out is not delayed.
//!
//! [`LiveSettings::batch_after`]: taskflow_application::events::LiveSettings
//! [`LiveSettings::batch_interval`]: taskflow_application::events::LiveSettings

use std::sync::Arc;
use std::time::Duration;

use taskflow_application::events::LiveEvents;
use taskflow_application::ports::WorkSignal;
use taskflow_domain::ports::Clock;
use tokio_util::sync::CancellationToken;

use crate::worker::backoff;

/// How often the hub reads the feed without a signal, and ends expired streams.
const TICK: Duration = Duration::from_secs(1);

/// Runs the hub until `stop`, then closes its streams.
pub async fn run(hub: Arc<LiveEvents>, signal: Arc<dyn WorkSignal>, clock: Arc<dyn Clock>, stop: CancellationToken) {
    let mut failures = 0;
    loop {
        match hub.start().await {
            Ok(()) => break,
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, "live events: cannot read the feed's head; retrying");
                tokio::select! {
                    () = stop.cancelled() => return hub.close(),
                    () = tokio::time::sleep(backoff(failures)) => {}
                }
            }
        }
    }
    let mut failures = 0;
    let mut next_sweep = tokio::time::Instant::now() + TICK;
    let settings = hub.settings();
    // Set after a busy read: the next read waits until then, and takes what is published meanwhile.
    let mut next_read: Option<tokio::time::Instant> = None;
    loop {
        if let Some(due) = next_read.take()
            && tokio::time::Instant::now() < due
        {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep_until(due) => {}
            }
        }
        let started = tokio::time::Instant::now();
        // Listen before reading, so that a publication during the read wakes the next round.
        let woken = signal.wait();
        let wait = match hub.poll().await {
            Ok(pushed) => {
                failures = 0;
                next_read = (pushed >= settings.batch_after).then(|| started + settings.batch_interval);
                TICK
            }
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, "live events: reading the feed failed; retrying");
                backoff(failures)
            }
        };
        if tokio::time::Instant::now() >= next_sweep {
            hub.sweep(clock.now());
            next_sweep = tokio::time::Instant::now() + TICK;
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = woken => {}
            () = tokio::time::sleep(wait.min(next_sweep.saturating_duration_since(tokio::time::Instant::now()))) => {}
        }
    }
    hub.close();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::Instant;

    use async_trait::async_trait;
    use taskflow_adapters_memory::InMemoryStore;
    use taskflow_application::auth::RevokedUsers;
    use taskflow_application::clock::SystemClock;
    use taskflow_application::events::{LiveSettings, Viewer};
    use taskflow_domain::events::DomainEvent;
    use taskflow_domain::policy::Actor;
    use taskflow_domain::ports::{EventFeed, FeedPosition};
    use taskflow_domain::task::{NewTask, Task, TaskTitle};
    use taskflow_domain::user::Role;
    use taskflow_domain::{EventId, RepoError, TaskId, UserId};
    use tokio::sync::Notify;

    use super::*;

    /// A feed with `per_read` new events of `owner` at every read, which it counts.
    struct Feed {
        owner: UserId,
        per_read: AtomicU64,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl EventFeed for Feed {
        async fn head(&self) -> Result<FeedPosition, RepoError> {
            Ok(FeedPosition::START)
        }

        async fn position_of(&self, _: EventId) -> Result<Option<FeedPosition>, RepoError> {
            Ok(None)
        }

        async fn published(
            &self,
            after: FeedPosition,
            _: Option<FeedPosition>,
            _: Option<UserId>,
            _: usize,
        ) -> Result<Vec<(FeedPosition, DomainEvent)>, RepoError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let at = chrono::Utc::now();
            let task = Task::new(
                NewTask::new(TaskTitle::parse("Watched").unwrap()),
                self.owner,
                TaskId::from_uuid(uuid::Uuid::now_v7()),
                at,
            );
            let events = (1..=self.per_read.load(Ordering::SeqCst))
                .map(|n| {
                    let position = FeedPosition::new(after.get() + n);
                    (position, DomainEvent::created(EventId::from_uuid(uuid::Uuid::now_v7()), &task, self.owner, at))
                })
                .collect();
            Ok(events)
        }
    }

    /// A signal the test sends itself.
    #[derive(Default)]
    struct Signal(Notify);

    impl WorkSignal for Signal {
        fn wait(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            let mut notified = Box::pin(self.0.notified());
            notified.as_mut().enable();
            notified
        }
    }

    /// Signals every 2 ms for `span`; returns the reads meanwhile and the time it took.
    async fn flood(feed: &Feed, signal: &Signal, span: Duration) -> (usize, Duration) {
        let before = feed.reads.load(Ordering::SeqCst);
        let started = Instant::now();
        while started.elapsed() < span {
            signal.0.notify_waiters();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        (feed.reads.load(Ordering::SeqCst) - before, started.elapsed())
    }

    #[tokio::test]
    async fn a_busy_hub_reads_at_most_once_per_batch_interval_and_a_light_or_rested_one_at_once() {
        let batch = Duration::from_millis(300);
        let owner = UserId::from_uuid(uuid::Uuid::from_u128(7));
        let feed = Arc::new(Feed { owner, per_read: AtomicU64::new(1), reads: AtomicUsize::new(0) });
        let revoked = Arc::new(RevokedUsers::new(Arc::new(InMemoryStore::new()), chrono::TimeDelta::minutes(15)));
        // A buffer the test never fills: it does not read the stream.
        let settings =
            LiveSettings { batch_interval: batch, batch_after: 64, stream_buffer: 1 << 20, ..LiveSettings::default() };
        let hub = Arc::new(LiveEvents::new(feed.clone(), revoked, settings));
        let signal = Arc::new(Signal::default());
        let stop = CancellationToken::new();
        let running = tokio::spawn(run(Arc::clone(&hub), signal.clone(), Arc::new(SystemClock), stop.clone()));
        while !hub.is_open() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The hub reads only while a stream is open; each read pushes `per_read` events to this one.
        let viewer = Viewer {
            actor: Actor { user_id: owner, role: Role::User },
            expires_at: chrono::Utc::now() + chrono::TimeDelta::minutes(15),
        };
        let _stream = hub.open(viewer, None, None).await.unwrap();

        // Light: a read pushes one event, so a signal every 2 ms is read as it comes, not once per interval.
        let (reads, took) = flood(&feed, &signal, batch * 2).await;
        assert!(reads >= 20, "{reads} reads in {took:?} of light signals");

        // Busy: a read pushes 100 events (64 or more), so the next waits for the interval.
        feed.per_read.store(100, Ordering::SeqCst);
        tokio::time::sleep(batch + Duration::from_millis(100)).await;
        let (reads, took) = flood(&feed, &signal, batch * 3).await;
        let most = usize::try_from(took.as_millis() / batch.as_millis()).unwrap() + 1;
        assert!((2..=most).contains(&reads), "{reads} reads in {took:?} of busy signals; at most {most}");

        // After a quiet spell longer than the interval, even a busy hub reads a signal at once. (The flood's last
        // signals may still be read up to an interval after it ended: the spell counts from that read.)
        tokio::time::sleep(batch * 2 + Duration::from_millis(100)).await;
        let before = feed.reads.load(Ordering::SeqCst);
        let signalled = Instant::now();
        signal.0.notify_waiters();
        while feed.reads.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(signalled.elapsed() < batch / 2, "read {:?} after the signal", signalled.elapsed());

        stop.cancel();
        running.await.unwrap();
        assert!(!hub.is_open(), "the hub is closed when its loop stops");
    }
}
