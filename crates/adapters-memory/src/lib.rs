//! In-memory adapters for every TaskFlow port: thread-safe, with the same semantics as the PostgreSQL and Redis
//! adapters (the shared `taskflow-contract-tests` suites check it).
//!
//! - [`InMemoryStore`]: users, tasks, units of work, the outbox, the read models, refresh tokens, idempotency
//!   keys, webhooks, the delivery queue, the overdue scan, job leases and the work signal, in one cheaply
//!   cloneable handle. It is the embedded storage of the service, not only a test double.
//! - [`InMemoryRateLimiter`] (GCRA) and [`InMemoryCacheStore`]: the in-process stand-ins for Redis.
//! - [`InMemoryBreakers`]: the circuit breakers of webhook receivers.
//!
//! Expiries and rate limits read the time from the domain's `Clock` port (`with_clock`), so one
//! `taskflow_application::clock::ManualClock` moves them forward in tests instead of sleeping.

mod breakers;
mod cache;
mod locks;
mod rate_limiter;
mod store;
mod time;

pub use breakers::InMemoryBreakers;
pub use cache::InMemoryCacheStore;
pub use rate_limiter::InMemoryRateLimiter;
pub use store::{InMemorySignal, InMemoryStore, InMemoryTransaction};
