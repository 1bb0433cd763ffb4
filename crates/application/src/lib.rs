//! TaskFlow's use cases. Commands change state inside one unit of work and record their events; queries read
//! through the read models (CQRS). This crate knows the ports of `taskflow-domain`, never an adapter.
//!
//! - [`auth`]: register, login, refresh, logout, me, and authenticating access tokens.
//! - [`users`]: list, get, update, delete users.
//! - [`tasks`]: create, get, update, delete, list, stats and batch operations on tasks.
//! - [`webhooks`]: webhook subscriptions, their deliveries and retrying them by hand.
//! - [`events`]: live event streams, fed from the published events of every instance.
//! - [`idempotency`]: replaying the first response of a retried request.
//! - [`health`]: readiness of the dependencies.
//! - [`breakers`]: the shared circuit breakers of webhook receivers (a port).

mod app;
pub mod auth;
pub mod breakers;
pub mod cache;
pub mod clock;
pub mod cursor;
pub mod deps;
pub mod error;
pub mod events;
pub mod health;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod ports;
pub mod query_key;
pub mod rate_limits;
pub mod tasks;
pub mod users;
pub mod webhooks;

#[cfg(test)]
mod test_support;

pub use app::App;
pub use deps::{Deps, DepsBuilder, MissingPort};
pub use error::{AppError, FieldError};
/// The domain, re-exported so adapters that drive the use cases need one dependency.
pub use taskflow_domain as domain;
/// Dates and durations, as the use cases take them (the domain's `chrono`).
pub use taskflow_domain::chrono;
