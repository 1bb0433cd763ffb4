//! The shared rate limiter: GCRA in one Lua script, so one round trip decides atomically for every instance.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::Script;
use taskflow_domain::error::RepoError;

use crate::client::RedisClient;
use taskflow_application::ports::{RateDecision, RateLimiter};

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));

/// [`RateLimiter`] on Redis: `limit` requests per `period` with a burst of `limit`, shared by every instance.
///
/// The time comes from the Redis server (`TIME` inside the script), so instances with skewed clocks still agree.
/// Keys are `{prefix}:rl:{key}` and expire when the limit is fully restored.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    client: RedisClient,
}

impl RedisRateLimiter {
    /// A limiter on `client`'s pool and key prefix.
    #[must_use]
    pub fn new(client: RedisClient) -> Self {
        Self { client }
    }
}

/// The GCRA emission interval in whole microseconds, rounded up: exact integer arithmetic in the script at the
/// price of a period at most `limit` microseconds longer than asked.
fn emission_interval_us(limit: u32, period: Duration) -> u64 {
    let period_us = u64::try_from(period.as_micros()).unwrap_or(u64::MAX / 2);
    period_us.div_ceil(u64::from(limit)).max(1)
}

fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    #[tracing::instrument(name = "redis.rate_limit.check", skip_all, fields(limit = limit))]
    async fn check(&self, key: &str, limit: u32, period: Duration) -> Result<RateDecision, RepoError> {
        if limit == 0 {
            // Nothing is ever allowed; no need to ask Redis.
            return Ok(RateDecision {
                allowed: false,
                limit,
                remaining: 0,
                reset_after: Duration::ZERO,
                retry_after: Some(period),
            });
        }
        let redis_key = self.client.key("rl", key);
        let interval = emission_interval_us(limit, period);
        let (allowed, remaining, reset_us, retry_us): (i64, i64, i64, i64) = self
            .client
            .execute("rate_limit", move |conn| {
                Box::pin(async move { GCRA.key(redis_key).arg(limit).arg(interval).invoke_async(conn).await })
            })
            .await?;
        let allowed = allowed == 1;
        Ok(RateDecision {
            allowed,
            limit,
            remaining: u32::try_from(remaining).unwrap_or(0).min(limit),
            reset_after: micros(reset_us),
            retry_after: (!allowed).then(|| micros(retry_us)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emission_interval_divides_the_period_rounding_up() {
        let cases = [
            ("even split", 10, Duration::from_secs(60), 6_000_000),
            ("rounds up", 7, Duration::from_secs(60), 8_571_429),
            ("never zero", 1000, Duration::ZERO, 1),
        ];
        for (what, limit, period, expected) in cases {
            assert_eq!(emission_interval_us(limit, period), expected, "{what}");
        }
    }
}
