//! Readiness of Redis: a PING through the same timeouts and breaker as every other call.

use std::time::Instant;

use async_trait::async_trait;
use deadpool_redis::redis;

use crate::client::RedisClient;
use taskflow_application::ports::{ComponentHealth, HealthProbe};

/// [`HealthProbe`] of kind `redis`. Down while the breaker is open, so readiness shows the degradation at once.
#[derive(Debug, Clone)]
pub struct RedisHealthProbe {
    client: RedisClient,
}

impl RedisHealthProbe {
    /// A probe of `client`'s server.
    #[must_use]
    pub fn new(client: RedisClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl HealthProbe for RedisHealthProbe {
    #[tracing::instrument(name = "redis.health.check", skip_all)]
    async fn check(&self) -> ComponentHealth {
        let started = Instant::now();
        let reply: Result<String, _> = self
            .client
            .execute("ping", |conn| Box::pin(async move { redis::cmd("PING").query_async(conn).await }))
            .await;
        ComponentHealth { up: reply.is_ok_and(|pong| pong == "PONG"), kind: "redis", latency: started.elapsed() }
    }
}
