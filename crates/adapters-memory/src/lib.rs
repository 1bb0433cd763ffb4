//! In-memory adapters for every TaskFlow port: thread-safe, with the same semantics as the PostgreSQL and Redis
//! adapters (the shared `taskflow-contract-tests` suites check it).
//!
//! - [`InMemoryStore`]: users, tasks, units of work, the outbox, the read models, refresh tokens and idempotency
//!   keys, in one cheaply cloneable handle. It is the embedded storage of the service, not only a test double.
//! - [`InMemoryRateLimiter`] (GCRA) and [`InMemoryCacheStore`]: the in-process stand-ins for Redis.
//! - [`SystemClock`], [`ManualClock`], [`UuidV7Generator`], [`SequentialIdGenerator`]: time and ids.
//! - [`MonotonicClock`]: the monotonic time source of the limiter, the cache and idempotency expiry, which tests
//!   can move forward instead of sleeping.

mod cache;
mod clock;
mod ids;
mod locks;
mod monotonic;
mod rate_limiter;
mod store;

pub use cache::InMemoryCacheStore;
pub use clock::{ManualClock, SystemClock};
pub use ids::{SequentialIdGenerator, UuidV7Generator};
pub use monotonic::MonotonicClock;
pub use rate_limiter::InMemoryRateLimiter;
pub use store::{InMemoryStore, InMemoryTransaction};
