//! A byte cache shared by every instance: GET, SET PX and INCR under `{prefix}:cache:`.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis;
use taskflow_domain::error::RepoError;

use crate::client::RedisClient;
use taskflow_application::ports::CacheStore;

/// Reads a generation and the value keyed by it in one round trip (the value key is built inside the script).
static GET_GENERATIONAL: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"local g = redis.call('GET', KEYS[1]) or '0'
          return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}",
    )
});

/// Increments a counter and (re)sets its expiry, atomically.
static INCR_EXPIRE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"local v = redis.call('INCR', KEYS[1])
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          return v",
    )
});

/// [`CacheStore`] on Redis. Keys are `{prefix}:cache:{key}`.
#[derive(Debug, Clone)]
pub struct RedisCacheStore {
    client: RedisClient,
}

impl RedisCacheStore {
    /// A cache on `client`'s pool and key prefix.
    #[must_use]
    pub fn new(client: RedisClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl CacheStore for RedisCacheStore {
    #[tracing::instrument(name = "redis.cache.get", skip_all)]
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RepoError> {
        let cmd = redis::cmd("GET").arg(self.client.key("cache", key)).to_owned();
        self.client.execute("cache_get", move |conn| Box::pin(async move { cmd.query_async(conn).await })).await
    }

    #[tracing::instrument(name = "redis.cache.set", skip_all)]
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), RepoError> {
        // PX must be at least 1 ms; a zero TTL would be rejected by Redis.
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2).max(1);
        let cmd = redis::cmd("SET").arg(self.client.key("cache", key)).arg(value).arg("PX").arg(ttl_ms).to_owned();
        self.client.execute("cache_set", move |conn| Box::pin(async move { cmd.query_async(conn).await })).await
    }

    #[tracing::instrument(name = "redis.cache.incr", skip_all)]
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, RepoError> {
        let key = self.client.key("cache", key);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2).max(1);
        let value: i64 = self
            .client
            .execute("cache_incr", move |conn| {
                Box::pin(async move { INCR_EXPIRE.key(key).arg(ttl_ms).invoke_async(conn).await })
            })
            .await?;
        u64::try_from(value).map_err(RepoError::unexpected)
    }

    #[tracing::instrument(name = "redis.cache.incr_all", skip_all, fields(keys = keys.len()))]
    async fn incr_all(&self, keys: &[String], ttl: Duration) -> Result<(), RepoError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2).max(1);
        // One round trip, applied all or nothing (MULTI ... EXEC).
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            let key = self.client.key("cache", key);
            pipe.cmd("INCR").arg(&key).ignore().cmd("PEXPIRE").arg(&key).arg(ttl_ms).ignore();
        }
        self.client.execute("cache_incr_all", move |conn| Box::pin(async move { pipe.query_async(conn).await })).await
    }

    #[tracing::instrument(name = "redis.cache.get_generational", skip_all)]
    async fn get_generational(
        &self,
        generation_key: &str,
        key_prefix: &str,
        key_suffix: &str,
    ) -> Result<(u64, Option<Vec<u8>>), RepoError> {
        let generation_key = self.client.key("cache", generation_key);
        let key_prefix = self.client.key("cache", key_prefix);
        let key_suffix = key_suffix.to_owned();
        let (generation, value): (String, Option<Vec<u8>>) = self
            .client
            .execute("cache_get_generational", move |conn| {
                Box::pin(async move {
                    GET_GENERATIONAL.key(generation_key).arg(key_prefix).arg(key_suffix).invoke_async(conn).await
                })
            })
            .await?;
        Ok((generation.parse().unwrap_or(0), value))
    }
}
