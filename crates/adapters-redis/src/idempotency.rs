//! Idempotency keys in Redis, seen by every instance: one hash per key, claimed and read in one Lua step.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::Script;
use sha2::{Digest, Sha256};

use taskflow_domain::error::RepoError;
use taskflow_domain::ids::UserId;

use crate::client::RedisClient;
use taskflow_application::ports::{IdempotencyBegin, IdempotencyKey, IdempotencyStore, StoredResponse};

static BEGIN: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("idempotency.lua")));

/// Stores the response only over a claim still in progress: a released or expired claim is not resurrected.
static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('HGET', KEYS[1], 'state') ~= 'in_progress' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'completed', 'status', ARGV[1], 'headers', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1",
    )
});

/// Deletes a claim only while it is in progress, never a completed response.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('HGET', KEYS[1], 'state') == 'in_progress' then return redis.call('DEL', KEYS[1]) end
return 0",
    )
});

/// [`IdempotencyStore`] on Redis. Keys are `{prefix}:idem:{owner}:{sha256(key) in hex}`, so any client-chosen
/// key is safe and of bounded size.
#[derive(Debug, Clone)]
pub struct RedisIdempotencyStore {
    client: RedisClient,
}

impl RedisIdempotencyStore {
    /// A store on `client`'s pool and key prefix.
    #[must_use]
    pub fn new(client: RedisClient) -> Self {
        Self { client }
    }

    fn redis_key(&self, owner: UserId, key: &IdempotencyKey) -> String {
        let digest = Sha256::digest(key.as_ref().as_bytes());
        self.client.key("idem", &format!("{owner}:{}", hex::encode(digest)))
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2).max(1)
}

fn decode_begin(reply: Vec<Vec<u8>>) -> Result<IdempotencyBegin, RepoError> {
    let bad = |what: &str| RepoError::unexpected(format!("unexpected idempotency reply: {what}"));
    let mut parts = reply.into_iter();
    match parts.next().as_deref() {
        Some(b"started") => Ok(IdempotencyBegin::Started),
        Some(b"in_progress") => Ok(IdempotencyBegin::InProgress),
        Some(b"mismatch") => Ok(IdempotencyBegin::Mismatch),
        Some(b"completed") => {
            let (Some(status), Some(headers), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("incomplete stored response"));
            };
            let status = std::str::from_utf8(&status).ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("status"))?;
            let headers = serde_json::from_slice(&headers).map_err(RepoError::unexpected)?;
            Ok(IdempotencyBegin::Completed(StoredResponse { status, headers, body }))
        }
        _ => Err(bad("unknown outcome")),
    }
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    #[tracing::instrument(name = "redis.idempotency.begin", skip_all, fields(owner = %owner))]
    async fn begin(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<IdempotencyBegin, RepoError> {
        let redis_key = self.redis_key(owner, key);
        let fingerprint = fingerprint.to_owned();
        let ttl = ttl_ms(ttl);
        let reply: Vec<Vec<u8>> = self
            .client
            .execute("idempotency_begin", move |conn| {
                Box::pin(async move { BEGIN.key(redis_key).arg(fingerprint).arg(ttl).invoke_async(conn).await })
            })
            .await?;
        decode_begin(reply)
    }

    #[tracing::instrument(name = "redis.idempotency.complete", skip_all, fields(owner = %owner))]
    async fn complete(
        &self,
        owner: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<(), RepoError> {
        let redis_key = self.redis_key(owner, key);
        let headers = serde_json::to_vec(&response.headers).map_err(RepoError::unexpected)?;
        let (status, body, ttl) = (response.status, response.body.clone(), ttl_ms(ttl));
        let stored: i64 = self
            .client
            .execute("idempotency_complete", move |conn| {
                Box::pin(async move {
                    COMPLETE.key(redis_key).arg(status).arg(headers).arg(body).arg(ttl).invoke_async(conn).await
                })
            })
            .await?;
        if stored == 0 {
            tracing::debug!("idempotency claim gone before completion; response not stored");
        }
        Ok(())
    }

    #[tracing::instrument(name = "redis.idempotency.release", skip_all, fields(owner = %owner))]
    async fn release(&self, owner: UserId, key: &IdempotencyKey) -> Result<(), RepoError> {
        let redis_key = self.redis_key(owner, key);
        let _: i64 = self
            .client
            .execute("idempotency_release", move |conn| {
                Box::pin(async move { RELEASE.key(redis_key).invoke_async(conn).await })
            })
            .await?;
        Ok(())
    }
}
