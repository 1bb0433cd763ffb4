//! The read cache: the task reads that pay for it (list pages and stats; not one task by id, a primary-key probe
//! as cheap as a cache lookup) kept in a shared [`CacheStore`], never stale after a write on any instance.
//!
//! Strategy (ADR 0006): every cache key embeds a *generation*: the owner's (`gen:u:<id>`) for reads scoped to one
//! user, the global one (`gen:all`) for admin-wide reads. Every command bumps its owners' generations and the
//! global one right after it commits, in the same code path, so the next read on any instance builds a new key
//! and misses. Old entries are never read again and expire by their TTL. Concurrent misses of one key in one
//! instance share a single load (no stampede). When the cache store fails, reads bypass it and go to the database.
//!
//! A bump that fails (the store unreachable) is *owed*: the instance remembers it (bounded: the `debt` module), stops
//! reading and writing the cache, and retries the bump on its next cache use and from [`ReadCache::resync`] (called
//! periodically by the binary) until the store accepts it; only then does it use the cache again. So once the
//! store is reachable, no read is staler than a write made on the same instance, and other instances see the
//! write as soon as the retry lands.

mod codec;
mod debt;
mod read_model;

use std::sync::Arc;
use std::time::Duration;

use taskflow_domain::UserId;
use taskflow_domain::policy::TaskScope;

use self::debt::Debt;
use crate::ports::CacheStore;

pub use read_model::CachedTaskReadModel;

/// The default lifetime of a cached read.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// Generations and invalidation over a cache store. [`ReadCache::disabled`] does nothing, for deployments
/// without a shared cache (the embedded store needs none).
pub struct ReadCache {
    store: Option<Arc<dyn CacheStore>>,
    ttl: Duration,
    debt: Debt,
}

/// The most owner generations remembered as owed (about 100 bytes each); past it the debt collapses to the global
/// generation plus a hold of twice the TTL.
const MAX_OWED_KEYS: usize = 10_000;

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
        Self::with_debt_limit(store, ttl, MAX_OWED_KEYS)
    }

    /// A cache that remembers at most `limit` owed generation keys before collapsing its debt to the global
    /// generation and a hold of twice `ttl` (entries written before the last failure, or by a read that was in
    /// flight then, have all expired by the end of the hold).
    #[must_use]
    pub fn with_debt_limit(store: Arc<dyn CacheStore>, ttl: Duration, limit: usize) -> Self {
        Self { store: Some(store), ttl, debt: Debt::new(limit.max(1), ttl.saturating_mul(2)) }
    }

    /// No caching, no invalidation.
    #[must_use]
    pub fn disabled() -> Self {
        Self { store: None, ttl: DEFAULT_TTL, debt: Debt::new(1, Duration::ZERO) }
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
    /// command commits. A failure is logged and counted, never returned (the write itself succeeded): the bump is
    /// owed, and this instance bypasses the cache until the store accepts it. A bump not attempted because the
    /// caller was cancelled is owed too.
    pub async fn invalidate(&self, owners: impl IntoIterator<Item = UserId>) {
        let Some(store) = &self.store else { return };
        let mut keys: Vec<String> = owners.into_iter().map(owner_generation).collect();
        if keys.is_empty() {
            // Nothing was written (a batch that changed no task): nothing cached is stale.
            return;
        }
        keys.sort_unstable();
        keys.dedup();
        keys.push(GLOBAL_GENERATION.to_owned());
        // Every bump in one round trip; owed if it fails or the caller is dropped before it is answered.
        let mut unpaid = Unpaid { debt: &self.debt, keys: &keys, paid: false };
        match store.incr_all(&keys, self.generation_ttl()).await {
            Ok(()) => {
                metrics::counter!("cache_invalidations_total").increment(keys.len() as u64);
                unpaid.paid = true;
            }
            Err(err) => {
                metrics::counter!("cache_errors_total", "op" => "invalidate").increment(1);
                // Counted, and logged once when the cache starts being bypassed: one line per write during a
                // Redis outage (42,645 in the soak run) would bury everything else.
                tracing::debug!(error = %err, "cache invalidation failed; owed until the cache accepts it");
            }
        }
        let delivered = unpaid.paid;
        drop(unpaid);
        if delivered {
            // The store answers: a write is a cache use, so retry anything owed from earlier failures.
            self.settle(store.as_ref()).await;
        }
    }

    /// Retries the owed invalidations, if any; true when nothing is owed afterwards (the cache is in use). The
    /// binary calls it periodically so that an idle instance also pays what it owes as soon as the store is back.
    pub async fn resync(&self) -> bool {
        match &self.store {
            Some(store) => self.settle(store.as_ref()).await,
            None => true,
        }
    }

    /// Whether reads may use the cache now: nothing is owed, or the owed bumps were just delivered. One caller at
    /// a time retries; the others bypass the cache meanwhile.
    async fn settle(&self, store: &dyn CacheStore) -> bool {
        if !self.debt.owes() {
            return true;
        }
        let Some(_turn) = self.debt.turn() else { return false };
        for (key, seq) in self.debt.owed() {
            match store.incr(&key, self.generation_ttl()).await {
                Ok(_) => {
                    metrics::counter!("cache_invalidations_total").increment(1);
                    self.debt.paid(&key, seq);
                }
                Err(err) => {
                    metrics::counter!("cache_errors_total", "op" => "invalidate").increment(1);
                    tracing::debug!(error = %err, key, "owed cache invalidation still failing");
                    return false;
                }
            }
        }
        !self.debt.owes()
    }

    /// Whether an invalidation is owed (the cache is bypassed).
    fn owes(&self) -> bool {
        self.debt.owes()
    }
}

/// The bumps of one invalidation, recorded as owed when dropped unless they were delivered, so a failed or
/// cancelled invalidation leaves a debt rather than a silently stale cache.
struct Unpaid<'a> {
    debt: &'a Debt,
    keys: &'a [String],
    paid: bool,
}

impl Drop for Unpaid<'_> {
    fn drop(&mut self) {
        if !self.paid {
            self.debt.record(self.keys.to_vec(), GLOBAL_GENERATION);
        }
    }
}

#[cfg(test)]
mod resync_tests;
#[cfg(test)]
mod tests;
