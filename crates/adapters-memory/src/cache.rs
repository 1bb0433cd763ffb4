//! [`InMemoryCacheStore`]: bytes with a time to live, and counters, in process memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::ports::Clock;

use crate::locks::lock;
use crate::time::Elapsed;
use taskflow_application::ports::CacheStore;

/// How many writes pass between two sweeps of expired entries.
const SWEEP_EVERY: u64 = 1024;

/// A byte cache for one process. Counters are stored as decimal text, as Redis does, and have no expiry of their
/// own; `incr` keeps the expiry of an existing value.
#[derive(Debug, Default)]
pub struct InMemoryCacheStore {
    time: Elapsed,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    writes: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    /// On the cache's monotonic clock; `None` never expires.
    expires_at: Option<Duration>,
}

impl State {
    /// The live entry under `key`, dropping it if it expired.
    fn live(&mut self, key: &str, now: Duration) -> Option<&mut Entry> {
        if self.entries.get(key).is_some_and(|e| e.expires_at.is_some_and(|at| at <= now)) {
            self.entries.remove(key);
        }
        self.entries.get_mut(key)
    }

    fn wrote(&mut self, now: Duration) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY) {
            self.entries.retain(|_, e| e.expires_at.is_none_or(|at| at > now));
        }
    }
}

impl InMemoryCacheStore {
    /// A cache on the system's clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache on `clock` (a manual one in tests).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let time = Elapsed::on(clock);
        Self { time, state: Mutex::default() }
    }
}

#[async_trait]
impl CacheStore for InMemoryCacheStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError> {
        let now = self.time.elapsed();
        Ok(lock(&self.state).live(key, now).map(|e| e.value.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), RepoError> {
        let now = self.time.elapsed();
        let mut state = lock(&self.state);
        state.wrote(now);
        state.entries.insert(key.to_owned(), Entry { value: value.to_vec(), expires_at: Some(now + ttl) });
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, RepoError> {
        let now = self.time.elapsed();
        let mut state = lock(&self.state);
        state.wrote(now);
        let Some(entry) = state.live(key, now) else {
            state.entries.insert(key.to_owned(), Entry { value: b"1".to_vec(), expires_at: Some(now + ttl) });
            return Ok(1);
        };
        let current: u64 = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RepoError::unexpected(format!("the value under {key:?} is not a counter")))?;
        let next = current.checked_add(1).ok_or_else(|| RepoError::unexpected("counter overflow"))?;
        entry.value = next.to_string().into_bytes();
        entry.expires_at = Some(now + ttl);
        Ok(next)
    }

    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        // Under one lock: the generation and the value it names are read together, like Redis' one round trip.
        let now = self.time.elapsed();
        let state = &mut *lock(&self.state);
        let generation = state
            .live(generation_key, now)
            .and_then(|e| std::str::from_utf8(&e.value).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let value = state.live(&format!("{key_prefix}{generation}{key_suffix}"), now).map(|e| e.value.clone());
        Ok((generation, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_expire_on_the_injected_time_and_increments_reset_the_expiry() {
        // Arrange
        let time = Arc::new(taskflow_application::clock::ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let cache = InMemoryCacheStore::with_clock(time.clone());
        cache.set("v", b"x", Duration::from_secs(10)).await.expect("set");
        cache.set("n", b"41", Duration::from_secs(5)).await.expect("set");

        // Act
        let counted = cache.incr("n", Duration::from_secs(10)).await.expect("incr");
        time.pass(Duration::from_secs(9));
        let before = (cache.get("v").await.expect("get"), cache.get("n").await.expect("get"));
        time.pass(Duration::from_secs(1));
        let after = (cache.get("v").await.expect("get"), cache.get("n").await.expect("get"));

        // Assert
        assert_eq!(counted, 42, "incr reads the stored number");
        assert_eq!(
            before,
            (Some(b"x".to_vec()), Some(b"42".to_vec())),
            "alive before their ttl; incr moved n's expiry"
        );
        assert_eq!(after, (None, None), "both gone at their ttl");
        assert!(cache.set("t", b"text", Duration::from_secs(1)).await.is_ok());
        assert!(cache.incr("t", Duration::from_secs(60)).await.is_err(), "text is not a counter");
    }
}
