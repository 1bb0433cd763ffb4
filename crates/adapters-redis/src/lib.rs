//! Redis adapters for the ports that need state shared by every instance: the rate limiter, idempotency keys, the
//! cache and a health probe, all on one deadpool-redis pool ([`RedisClient`]) behind short timeouts and a circuit
//! breaker, so Redis being down degrades TaskFlow instead of breaking it.

mod breaker;
mod cache;
mod client;
mod fallback;
mod health;
mod idempotency;
pub mod metrics;
mod rate_limiter;
mod settings;
#[cfg(feature = "testing")]
pub mod testing;

/// The `redis` crate as used by this adapter (re-exported by deadpool-redis; there is no direct dependency).
pub use deadpool_redis::redis;

pub use crate::breaker::{BreakerOpen, BreakerState, CircuitBreaker, Permit};
pub use crate::cache::RedisCacheStore;
pub use crate::client::{ConnFuture, RedisClient};
pub use crate::fallback::FallbackRateLimiter;
pub use crate::health::RedisHealthProbe;
pub use crate::idempotency::RedisIdempotencyStore;
pub use crate::rate_limiter::RedisRateLimiter;
pub use crate::settings::RedisSettings;
