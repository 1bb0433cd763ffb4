//! The live event hub's loop: start it where the feed stands, then read what is published whenever the feed signals
//! (and every second regardless, in case a signal was lost), end streams whose token expired or whose user was
//! deleted, and close every stream when the instance stops.
//!
//! Reads are at least [`LiveSettings::batch_interval`] apart: while events come faster than that, each read takes
//! all that committed since the last one, and a stream gets its share of them in one write. Every frame a stream
//! sends costs a wake-up, a poll and a `send` (a loopback one also the receiving side's TCP), whatever its size;
//! batching is what keeps a thousand streams from costing the writes they watch a fifth of the machine (see
//! `docs/performance.md`). After a quiet spell the first signal is read at once.
//!
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
    let batch = hub.settings().batch_interval;
    let mut last_read: Option<tokio::time::Instant> = None;
    loop {
        // Not sooner than `batch` after the last read: what is published meanwhile is read by the next one.
        if let Some(due) = last_read.map(|at| at + batch)
            && tokio::time::Instant::now() < due
        {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep_until(due) => {}
            }
        }
        last_read = Some(tokio::time::Instant::now());
        // Listen before reading, so that a publication during the read wakes the next round.
        let woken = signal.wait();
        let wait = match hub.poll().await {
            Ok(_) => {
                failures = 0;
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use async_trait::async_trait;
    use taskflow_adapters_memory::InMemoryStore;
    use taskflow_application::auth::RevokedUsers;
    use taskflow_application::clock::SystemClock;
    use taskflow_application::events::{LiveSettings, Viewer};
    use taskflow_domain::events::DomainEvent;
    use taskflow_domain::policy::Actor;
    use taskflow_domain::ports::{EventFeed, FeedPosition};
    use taskflow_domain::user::Role;
    use taskflow_domain::{EventId, RepoError, UserId};
    use tokio::sync::Notify;

    use super::*;

    /// An empty feed that counts its reads.
    #[derive(Default)]
    struct CountingFeed {
        reads: AtomicUsize,
    }

    #[async_trait]
    impl EventFeed for CountingFeed {
        async fn head(&self) -> Result<FeedPosition, RepoError> {
            Ok(FeedPosition::START)
        }

        async fn position_of(&self, _: EventId) -> Result<Option<FeedPosition>, RepoError> {
            Ok(None)
        }

        async fn published(
            &self,
            _: FeedPosition,
            _: Option<FeedPosition>,
            _: Option<UserId>,
            _: usize,
        ) -> Result<Vec<(FeedPosition, DomainEvent)>, RepoError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Vec::new())
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

    async fn until_reads(feed: &CountingFeed, reads: usize) {
        while feed.reads.load(Ordering::SeqCst) < reads {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn signals_faster_than_the_batch_interval_are_read_together_and_one_after_a_quiet_spell_at_once() {
        let batch = Duration::from_millis(400);
        let feed = Arc::new(CountingFeed::default());
        let store = InMemoryStore::new();
        let revoked = Arc::new(RevokedUsers::new(Arc::new(store), chrono::TimeDelta::minutes(15)));
        let settings = LiveSettings { batch_interval: batch, ..LiveSettings::default() };
        let hub = Arc::new(LiveEvents::new(feed.clone(), revoked, settings));
        let signal = Arc::new(Signal::default());
        let stop = CancellationToken::new();
        let running = tokio::spawn(run(Arc::clone(&hub), signal.clone(), Arc::new(SystemClock), stop.clone()));
        // The hub reads only while a stream is open.
        until_reads(&feed, 0).await;
        while !hub.is_open() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let actor = Actor { user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)), role: Role::User };
        let viewer = Viewer { actor, expires_at: chrono::Utc::now() + chrono::TimeDelta::minutes(15) };
        let _stream = hub.open(viewer, None, None).await.unwrap();

        // After a quiet spell longer than the interval, a signal is read at once, not an interval later.
        tokio::time::sleep(batch + Duration::from_millis(100)).await;
        let before = feed.reads.load(Ordering::SeqCst);
        let signalled = Instant::now();
        signal.0.notify_waiters();
        until_reads(&feed, before + 1).await;
        assert!(signalled.elapsed() < batch / 2, "read {:?} after the signal", signalled.elapsed());

        // A signal every 2 ms for three intervals: a read per interval at most (and the one the flood began with).
        tokio::time::sleep(batch + Duration::from_millis(100)).await;
        let before = feed.reads.load(Ordering::SeqCst);
        let flood = Instant::now();
        let mut signals = 0;
        while flood.elapsed() < batch * 3 {
            signal.0.notify_waiters();
            signals += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let reads = feed.reads.load(Ordering::SeqCst) - before;
        let most = usize::try_from(flood.elapsed().as_millis() / batch.as_millis()).unwrap() + 1;
        assert!((2..=most).contains(&reads), "{reads} reads for {signals} signals in {:?}", flood.elapsed());

        stop.cancel();
        running.await.unwrap();
        assert!(!hub.is_open(), "the hub is closed when its loop stops");
    }
}
