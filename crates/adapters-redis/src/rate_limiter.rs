//! The shared rate limiter: GCRA in one Lua script, so one round trip decides atomically for every instance; a
//! busy key takes a small share of its limit at once, spent locally, so it needs one round trip per share.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_redis::redis::Script;
use taskflow_domain::error::RepoError;

use crate::client::RedisClient;
use taskflow_application::ports::{RateDecision, RateLimiter};

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("gcra.lua")));

/// The share of a limit one instance takes at once: one hundredth of it, at most [`MAX_LEASE`] requests (so a
/// limit below 200 per period is decided request by request, exactly).
const LEASE_SHARE: u32 = 100;
/// The most requests one lease admits.
const MAX_LEASE: u32 = 64;
/// How long the requests of a lease may be spent; what is left then is dropped (never given back).
const LEASE_FOR: Duration = Duration::from_secs(1);
/// The most keys holding a lease at once in one instance; beyond it a key is decided request by request.
const MAX_LEASED_KEYS: usize = 10_000;

/// Requests admitted by Redis for one key and not yet spent by this instance.
#[derive(Debug, Clone, Copy)]
struct Lease {
    limit: u32,
    period: Duration,
    left: u32,
    /// What Redis had left beside the lease when it granted it.
    remaining: u32,
    /// When the limit is fully restored, counting the whole lease as spent.
    reset_at: Instant,
    until: Instant,
}

/// What one request takes: a request of a live lease, or a round trip to Redis.
enum Turn {
    Spent(RateDecision),
    /// Ask Redis, giving back `refund` requests an expired lease left unspent (so that a lease costs its client
    /// only what it spent, however often a slow client's leases expire).
    Ask {
        refund: u32,
    },
}

/// The leases of one instance, bounded in number and in time.
#[derive(Debug)]
struct Leases {
    by_key: HashMap<String, Lease>,
    capacity: usize,
    lifetime: Duration,
}

impl Leases {
    /// Spends one request of `key`'s lease if it holds a live one for this limit; otherwise the lease (spent,
    /// expired, or for another limit) is dropped and what it left unspent is to be given back to Redis.
    fn spend(&mut self, key: &str, limit: u32, period: Duration, now: Instant) -> Turn {
        let Some(lease) = self.by_key.get_mut(key) else { return Turn::Ask { refund: 0 } };
        let same_limit = lease.limit == limit && lease.period == period;
        if same_limit && lease.left > 0 && now < lease.until {
            lease.left -= 1;
            return Turn::Spent(RateDecision {
                allowed: true,
                limit,
                remaining: lease.remaining.saturating_add(lease.left).min(limit),
                reset_after: lease.reset_at.saturating_duration_since(now),
                retry_after: None,
            });
        }
        let refund = if same_limit { lease.left } else { 0 };
        self.by_key.remove(key);
        Turn::Ask { refund }
    }

    /// How many requests to ask Redis for: a share of `limit` when there is room for one more lease.
    fn wanted(&mut self, limit: u32, now: Instant) -> u32 {
        let share = (limit / LEASE_SHARE).clamp(1, MAX_LEASE);
        if share > 1 && self.by_key.len() >= self.capacity {
            self.by_key.retain(|_, lease| lease.left > 0 && now < lease.until);
        }
        if self.by_key.len() < self.capacity { share } else { 1 }
    }

    /// Keeps what is left of a grant (the caller spent one of its requests), if there is room.
    fn keep(&mut self, key: &str, lease: Lease) {
        if self.by_key.len() >= self.capacity && !self.by_key.contains_key(key) {
            return;
        }
        self.by_key
            .entry(key.to_owned())
            .and_modify(|held| {
                // Two requests leased at once: both shares are spendable, under the later figures.
                let left = held.left.saturating_add(lease.left);
                *held = Lease { left, ..lease };
            })
            .or_insert(lease);
    }
}

/// [`RateLimiter`] on Redis: `limit` requests per `period` with a burst of `limit`, shared by every instance.
///
/// The time comes from the Redis server (`TIME` inside the script), so instances with skewed clocks still agree.
/// Keys are `{prefix}:rl:{key}` and expire when the limit is fully restored.
///
/// A request without a lease asks Redis for a share of the limit (a hundredth, at most 64 requests) and spends the
/// rest of it locally within a second. Requests are admitted by Redis before they are spent, so all instances
/// together never exceed the limit. What an expired lease left unspent is given back with the instance's next
/// request for that key (in the same round trip), so a lease holds at most a hundredth of the limit per instance
/// at a time and costs its client only what it spent; `RateLimit-Remaining` is approximate on leased requests
/// (what Redis had left at the grant plus this instance's unspent share; other instances' use since is unseen).
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    client: RedisClient,
    leases: Arc<Mutex<Leases>>,
}

impl RedisRateLimiter {
    /// A limiter on `client`'s pool and key prefix.
    #[must_use]
    pub fn new(client: RedisClient) -> Self {
        Self::with_lease_bounds(client, MAX_LEASED_KEYS, LEASE_FOR)
    }

    /// A limiter holding leases for at most `keys` keys at once, each spendable for `lifetime`.
    #[must_use]
    pub fn with_lease_bounds(client: RedisClient, keys: usize, lifetime: Duration) -> Self {
        let leases = Leases { by_key: HashMap::new(), capacity: keys, lifetime };
        Self { client, leases: Arc::new(Mutex::new(leases)) }
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, Leases> {
        self.leases.lock().unwrap_or_else(PoisonError::into_inner)
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
        let (wanted, refund) = {
            let mut leases = self.leases();
            let now = Instant::now();
            match leases.spend(&redis_key, limit, period, now) {
                Turn::Spent(decision) => return Ok(decision),
                Turn::Ask { refund } => (leases.wanted(limit, now), refund),
            }
        };
        let interval = emission_interval_us(limit, period);
        let script_key = redis_key.clone();
        let answer: Result<(i64, i64, i64, i64), RepoError> = self
            .client
            .execute("rate_limit", move |conn| {
                Box::pin(async move {
                    GCRA.key(script_key).arg(limit).arg(interval).arg(wanted).arg(refund).invoke_async(conn).await
                })
            })
            .await;
        let (granted, remaining, reset_us, retry_us) = match answer {
            Ok(answer) => answer,
            Err(err) => {
                // Redis is failing: no request is decided from a lease until it answers again, so the fallback
                // decides them all and an outage is seen as one (not one flap per key still leased).
                self.leases().by_key.clear();
                return Err(err);
            }
        };
        let allowed = granted > 0;
        let remaining = u32::try_from(remaining).unwrap_or(0).min(limit);
        let reset_after = micros(reset_us);
        // One of the requests granted is this one; the others are leased.
        let left = u32::try_from(granted - 1).unwrap_or(0);
        if left > 0 {
            let now = Instant::now();
            let mut leases = self.leases();
            let until = now + leases.lifetime;
            leases.keep(&redis_key, Lease { limit, period, left, remaining, reset_at: now + reset_after, until });
        }
        Ok(RateDecision {
            allowed,
            limit,
            remaining: remaining.saturating_add(left).min(limit),
            reset_after,
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
