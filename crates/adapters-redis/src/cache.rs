//! A byte cache shared by every instance: GET, SET PX and INCR under `{prefix}:cache:`.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis;
use taskflow_domain::error::RepoError;
use taskflow_domain::ports::CacheStore;

use crate::client::RedisClient;

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
    async fn incr(&self, key: &str) -> Result<u64, RepoError> {
        let cmd = redis::cmd("INCR").arg(self.client.key("cache", key)).to_owned();
        let value: i64 =
            self.client.execute("cache_incr", move |conn| Box::pin(async move { cmd.query_async(conn).await })).await?;
        u64::try_from(value).map_err(RepoError::unexpected)
    }
}
