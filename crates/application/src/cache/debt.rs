//! [`Debt`]: the invalidations this instance failed to deliver to the cache store, owed until the store accepts
//! them. While anything is owed the instance neither reads nor writes the cache (ADR 0006): its own entries may be
//! stale, and it is the only one that knows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The gauge that is 1 while this instance bypasses the cache because an invalidation is owed.
pub(super) const BYPASSED_GAUGE: &str = "cache_bypassed";
/// The counter of generation bumps that failed and became owed.
pub(super) const OWED_COUNTER: &str = "cache_invalidations_owed_total";

/// The owed generation bumps, bounded in size.
#[derive(Debug)]
pub(super) struct Debt {
    state: Mutex<State>,
    /// Whether anything may be owed: read without the lock on every cached read (the usual answer is no). Set
    /// and cleared only under the lock.
    maybe_owed: AtomicBool,
    /// Set while one task is retrying, so concurrent readers go to the database instead of queueing on a store
    /// that is probably still down.
    settling: AtomicBool,
    /// The most generation keys remembered; past it the debt collapses to the global generation and a hold.
    limit: usize,
    /// How long the cache stays bypassed after a collapse: every entry written before the last failure, and every
    /// entry a read in flight could still write, has expired by then.
    hold: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// Generation key -> the sequence number of its latest failure, so a retry that raced a newer failure of the
    /// same key does not forget the newer one.
    keys: HashMap<String, u64>,
    seq: u64,
    /// Set when the key set overflowed: the cache is bypassed until then, whatever else is delivered.
    hold_until: Option<Instant>,
    /// Whether the bypass has been announced (log line and gauge), to log each transition once.
    announced: bool,
}

impl State {
    fn owes(&mut self, now: Instant) -> bool {
        if self.hold_until.is_some_and(|until| until <= now) {
            self.hold_until = None;
        }
        !self.keys.is_empty() || self.hold_until.is_some()
    }
}

/// Removes the "retrying" mark however the retry ends, cancelled included.
pub(super) struct Turn<'a>(&'a AtomicBool);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Debt {
    pub(super) fn new(limit: usize, hold: Duration) -> Self {
        Self {
            state: Mutex::default(),
            maybe_owed: AtomicBool::new(false),
            settling: AtomicBool::new(false),
            limit,
            hold,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records bumps of `keys` that did not reach the store (failed, or never attempted because the caller was
    /// cancelled). `global` is the key that invalidates every admin-wide read; it is what remains owed when the set
    /// overflows.
    pub(super) fn record(&self, keys: impl IntoIterator<Item = String>, global: &str) {
        let (announce, collapsed) = {
            let mut state = self.lock();
            let now = Instant::now();
            let was_held = state.hold_until.is_some_and(|until| until > now);
            let mut count = 0_u64;
            for key in keys {
                count += 1;
                state.seq += 1;
                let seq = state.seq;
                if state.hold_until.is_some_and(|until| until > now)
                    || (state.keys.len() >= self.limit && !state.keys.contains_key(&key))
                {
                    // Too many to remember (or already collapsed): forget the owners, owe the global bump, and
                    // bypass until every entry that may predate this failure has expired.
                    state.keys.clear();
                    state.keys.insert(global.to_owned(), seq);
                    state.hold_until = Some(now + self.hold);
                } else {
                    state.keys.insert(key, seq);
                }
            }
            self.maybe_owed.store(true, Ordering::Release);
            metrics::counter!(OWED_COUNTER).increment(count);
            let collapsed = !was_held && state.hold_until.is_some_and(|until| until > now);
            (count > 0 && !std::mem::replace(&mut state.announced, true), collapsed)
        };
        if collapsed {
            tracing::warn!(
                limit = self.limit,
                hold_secs = self.hold.as_secs_f64(),
                "too many owed cache invalidations: owing the global one and bypassing the cache for the hold"
            );
        }
        if announce {
            metrics::gauge!(BYPASSED_GAUGE).set(1.0);
            tracing::warn!("cache bypassed: an invalidation is owed; reads go to the database until it is delivered");
        }
    }

    /// Whether anything is owed. Announces the end of a bypass the first time it finds nothing owed.
    pub(super) fn owes(&self) -> bool {
        if !self.maybe_owed.load(Ordering::Acquire) {
            return false;
        }
        let resumed = {
            let mut state = self.lock();
            if state.owes(Instant::now()) {
                return true;
            }
            self.maybe_owed.store(false, Ordering::Release);
            std::mem::replace(&mut state.announced, false)
        };
        if resumed {
            metrics::gauge!(BYPASSED_GAUGE).set(0.0);
            tracing::info!("cache resumed: every owed invalidation was delivered");
        }
        false
    }

    /// The right to retry, unless another task is retrying.
    pub(super) fn turn(&self) -> Option<Turn<'_>> {
        self.settling
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then_some(Turn(&self.settling))
    }

    /// The owed keys with the sequence number of their latest failure, in key order.
    pub(super) fn owed(&self) -> Vec<(String, u64)> {
        let mut owed: Vec<(String, u64)> = self.lock().keys.iter().map(|(k, s)| (k.clone(), *s)).collect();
        owed.sort_unstable();
        owed
    }

    /// Forgets `key` if its latest failure is the one with sequence number `seq` (a newer failure stays owed).
    pub(super) fn paid(&self, key: &str, seq: u64) {
        let mut state = self.lock();
        if state.keys.get(key) == Some(&seq) {
            state.keys.remove(key);
        }
    }
}
