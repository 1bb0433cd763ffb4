//! The read cache: task reads (one task, list pages, stats) kept in a shared [`CacheStore`], never stale after a
//! write on any instance.
//!
//! Strategy (ADR 0006): every cache key embeds a *generation*: the owner's (`gen:u:<id>`) for reads scoped to one
//! user, the global one (`gen:all`) for admin-wide reads. Every command bumps its owners' generations and the
//! global one right after it commits, in the same code path, so the next read on any instance builds a new key
//! and misses. Old entries are never read again and expire by their TTL, which is also the safety net when a
//! bump is lost. Concurrent misses of one key in one instance share a single load (no stampede). When the cache
//! store fails, reads bypass it and go to the database.

mod codec;
mod read_model;

use std::sync::Arc;
use std::time::Duration;

use taskflow_domain::UserId;
use taskflow_domain::policy::TaskScope;
use taskflow_domain::ports::CacheStore;

pub use read_model::CachedTaskReadModel;

/// The default lifetime of a cached read.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// Generations and invalidation over a cache store. [`ReadCache::disabled`] does nothing, for deployments
/// without a shared cache (the embedded store needs none).
pub struct ReadCache {
    store: Option<Arc<dyn CacheStore>>,
    ttl: Duration,
}

const GLOBAL_GENERATION: &str = "gen:all";

/// The least a generation lives after its last bump.
const GENERATION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

fn owner_generation(owner: UserId) -> String {
    format!("gen:u:{owner}")
}

/// The generation key of reads within `scope`.
fn generation_key(scope: TaskScope) -> String {
    match scope {
        TaskScope::All => GLOBAL_GENERATION.to_owned(),
        TaskScope::Owner(owner) => owner_generation(owner),
    }
}

impl ReadCache {
    /// A cache over `store`, keeping reads for `ttl`.
    #[must_use]
    pub fn new(store: Arc<dyn CacheStore>, ttl: Duration) -> Self {
        Self { store: Some(store), ttl }
    }

    /// No caching, no invalidation.
    #[must_use]
    pub fn disabled() -> Self {
        Self { store: None, ttl: DEFAULT_TTL }
    }

    /// How long a generation outlives its last bump. A generation may lapse (and restart from 0) only once every
    /// entry keyed by it has expired, so it lives far longer than any entry; idle users' keys then go away.
    fn generation_ttl(&self) -> Duration {
        (self.ttl * 2).max(GENERATION_TTL)
    }

    /// Whether reads are cached.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.store.is_some()
    }

    /// Makes every cached read of `owners`' tasks (and every admin-wide read) unreachable. Called after a
    /// command commits. A failure is logged and counted, never returned: the write itself succeeded, and the
    /// TTL bounds how long a lost bump can matter.
    pub async fn invalidate(&self, owners: impl IntoIterator<Item = UserId>) {
        let Some(store) = &self.store else { return };
        let mut keys: Vec<String> = owners.into_iter().map(owner_generation).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.push(GLOBAL_GENERATION.to_owned());
        for key in keys {
            match store.incr(&key, self.generation_ttl()).await {
                Ok(_) => metrics::counter!("cache_invalidations_total").increment(1),
                Err(err) => {
                    metrics::counter!("cache_errors_total", "op" => "invalidate").increment(1);
                    tracing::warn!(error = %err, key, "cache invalidation failed; entries expire by TTL");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
