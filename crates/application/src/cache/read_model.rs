//! [`CachedTaskReadModel`]: a [`TaskReadModel`] decorator that serves reads from the [`ReadCache`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures::FutureExt as _;
use futures::channel::oneshot;
use futures::future::Shared;
use sha2::{Digest, Sha256};
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::TaskReadModel;
use taskflow_domain::query::{TaskPage, TaskQuery, TaskStats, TaskView};
use taskflow_domain::{RepoError, TaskId};

use crate::query_key::scope_key;

use super::{ReadCache, codec, generation_key};

type Flight = Shared<oneshot::Receiver<Arc<Vec<u8>>>>;

/// Reads through the cache; see the module docs of [`super`] for the strategy.
pub struct CachedTaskReadModel {
    inner: Arc<dyn TaskReadModel>,
    cache: Arc<ReadCache>,
    flights: Mutex<HashMap<String, Flight>>,
}

/// "Now" to the second: reads that depend on the clock (stats, `overdue` filters) share a key for one second.
fn second(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now)
}

fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// Removes a finished flight, even when its leader was cancelled.
struct Landing<'a> {
    flights: &'a Mutex<HashMap<String, Flight>>,
    key: &'a str,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner).remove(self.key);
    }
}

impl CachedTaskReadModel {
    /// Caches `inner`'s reads in `cache`.
    #[must_use]
    pub fn new(inner: Arc<dyn TaskReadModel>, cache: Arc<ReadCache>) -> Self {
        Self { inner, cache, flights: Mutex::new(HashMap::new()) }
    }

    /// The bytes of a read within `scope` whose key is `{prefix}{generation}{suffix}`: from the cache (generation
    /// and value in one round trip), from a load already running for the same key in this instance, or from
    /// `load` (then stored). When the cache cannot be used, or an invalidation is owed, `load` answers.
    async fn cached<F>(
        &self,
        kind: &'static str,
        scope: TaskScope,
        prefix: String,
        suffix: &str,
        load: F,
    ) -> Result<Vec<u8>, RepoError>
    where
        F: Future<Output = Result<Vec<u8>, RepoError>> + Send,
    {
        let Some(store) = &self.cache.store else { return load.await };
        if !self.cache.settle(store.as_ref()).await {
            // An invalidation is owed: what the cache holds for this instance's writes may be stale.
            metrics::counter!("cache_bypassed_reads_total", "kind" => kind).increment(1);
            return load.await;
        }
        let generation = match store.get_generational(&generation_key(scope), &prefix, suffix).await {
            Ok((_, Some(bytes))) => {
                metrics::counter!("cache_hits_total", "kind" => kind).increment(1);
                return Ok(bytes);
            }
            Ok((generation, None)) => {
                metrics::counter!("cache_misses_total", "kind" => kind).increment(1);
                generation
            }
            Err(err) => {
                metrics::counter!("cache_errors_total", "op" => "get").increment(1);
                tracing::debug!(error = %err, "cache unavailable; reading through");
                return load.await;
            }
        };
        let key = format!("{prefix}{generation}{suffix}");
        let (flight, sender) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            match flights.get(&key) {
                Some(flight) => (Some(flight.clone()), None),
                None => {
                    let (tx, rx) = oneshot::channel();
                    flights.insert(key.clone(), rx.shared());
                    (None, Some(tx))
                }
            }
        };
        if let Some(flight) = flight {
            // Another request is loading this key: share its result, or load ourselves if it failed.
            return match flight.await {
                Ok(bytes) => Ok(bytes.as_ref().clone()),
                Err(oneshot::Canceled) => load.await,
            };
        }
        let _landing = Landing { flights: &self.flights, key: &key };
        let bytes = load.await?;
        if self.cache.owes() {
            // An invalidation failed while this read was loading: the value may predate that write, and the
            // generation it is keyed by is still the old one, so it is not stored.
            metrics::counter!("cache_bypassed_reads_total", "kind" => kind).increment(1);
        } else if let Err(err) = store.set(&key, &bytes, self.cache.ttl).await {
            metrics::counter!("cache_errors_total", "op" => "set").increment(1);
            tracing::debug!(error = %err, "cache write failed");
        }
        let bytes = Arc::new(bytes);
        if let Some(tx) = sender {
            let _ = tx.send(bytes.clone());
        }
        Ok(Arc::unwrap_or_clone(bytes))
    }
}

#[async_trait]
impl TaskReadModel for CachedTaskReadModel {
    async fn get(&self, id: TaskId, scope: TaskScope) -> Result<Option<TaskView>, RepoError> {
        // Not cached: a primary-key probe costs the database no more than a cache lookup costs Redis, and a miss
        // would cost both plus the store (measured in docs/performance.md; ADR 0006).
        self.inner.get(id, scope).await
    }

    async fn list(&self, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        let scope = query.filter.scope;
        // `now` matters only to the overdue filter; leaving it out otherwise lets every request share the key.
        let now = query.filter.overdue.map(|_| second(query.now));
        let shape = crate::query_key::query_key(query, now);
        let prefix = format!("list:{}:g", scope_key(scope));
        let suffix = format!(":{}", digest(&shape));
        let load = async { Ok(codec::encode_page(&self.inner.list(query).await?)) };
        let bytes = self.cached("list", scope, prefix, &suffix, load).await?;
        match codec::decode_page(&bytes) {
            Some(page) => Ok(page),
            None => self.inner.list(query).await,
        }
    }

    async fn stats(&self, scope: TaskScope, now: DateTime<Utc>) -> Result<TaskStats, RepoError> {
        let now = second(now);
        let prefix = format!("stats:{}:g", scope_key(scope));
        let suffix = format!(":{}", now.timestamp());
        let load = async { Ok(codec::encode_stats(&self.inner.stats(scope, now).await?)) };
        let bytes = self.cached("stats", scope, prefix, &suffix, load).await?;
        match codec::decode_stats(&bytes) {
            Some(stats) => Ok(stats),
            None => self.inner.stats(scope, now).await,
        }
    }
}
