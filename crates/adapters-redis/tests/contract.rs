//! The shared port contract suites, run unchanged against the Redis adapters. Each case gets a fresh key prefix
//! whose keys are deleted when the case drops its adapter.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::Namespace;
use taskflow_adapters_redis::{RedisCacheStore, RedisIdempotencyStore, RedisRateLimiter};

use taskflow_application::ports::{
    CacheStore, IdempotencyBegin, IdempotencyKey, IdempotencyStore, RateDecision, RateLimiter, StoredResponse,
};
use taskflow_domain::error::RepoError;
use taskflow_domain::ids::UserId;

/// An adapter that owns its namespace, so the keys go when the case is over.
struct Scoped<T> {
    adapter: T,
    _namespace: Namespace,
}

fn scoped<T>(make: impl FnOnce(&Namespace) -> T) -> Scoped<T> {
    let namespace = Namespace::new();
    Scoped { adapter: make(&namespace), _namespace: namespace }
}

#[async_trait]
impl RateLimiter for Scoped<RedisRateLimiter> {
    async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        self.adapter.check(key, limit, period).await
    }
}

#[async_trait]
impl IdempotencyStore for Scoped<RedisIdempotencyStore> {
    async fn begin(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, RepoError> {
        self.adapter.begin(owner, key, fingerprint, ttl).await
    }

    async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), RepoError> {
        self.adapter.complete(owner, key, response, ttl).await
    }

    async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), RepoError> {
        self.adapter.release(owner, key).await
    }
}

#[async_trait]
impl CacheStore for Scoped<RedisCacheStore> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError> {
        self.adapter.get(key).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), RepoError> {
        self.adapter.set(key, value, ttl).await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, RepoError> {
        self.adapter.incr(key, ttl).await
    }

    async fn incr_all(&self, keys: &[String], ttl: Duration) -> Result<(), RepoError> {
        self.adapter.incr_all(keys, ttl).await
    }

    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        self.adapter.get_generational(generation_key, key_prefix, key_suffix).await
    }
}

async fn fresh_rate_limiter() -> Arc<dyn RateLimiter> {
    Arc::new(scoped(|ns| RedisRateLimiter::new(ns.client())))
}

async fn fresh_idempotency_store() -> Arc<dyn IdempotencyStore> {
    Arc::new(scoped(|ns| RedisIdempotencyStore::new(ns.client())))
}

async fn fresh_cache() -> Arc<dyn CacheStore> {
    Arc::new(scoped(|ns| RedisCacheStore::new(ns.client())))
}

mod rate_limiter {
    taskflow_contract_tests::rate_limiter_contract_tests!(super::fresh_rate_limiter);
}

mod idempotency {
    taskflow_contract_tests::idempotency_contract_tests!(super::fresh_idempotency_store);
}

mod cache {
    taskflow_contract_tests::cache_contract_tests!(super::fresh_cache);
}
