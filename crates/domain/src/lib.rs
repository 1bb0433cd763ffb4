//! TaskFlow's domain: the rules of tasks and users, with no I/O, no async runtime and no framework types.
//!
//! - [`task`] and [`user`]: entities and the value objects they are made of, which cannot hold invalid values.
//! - [`policy`]: who may see and change what.
//! - [`events`]: the domain events every task change records.
//! - [`query`]: the read-side query and page shapes (built for a SQL database, not a `Vec`).
//! - [`auth`]: token claims and refresh-token families.
//! - [`breaker`]: the circuit breaker's pure state machine (Redis client, webhook receivers).
//! - [`webhook`]: webhook subscriptions, their deliveries and the rules of retrying them.
//! - [`ports`]: the traits the adapters implement.

pub mod auth;
pub mod breaker;
pub mod error;
pub mod events;
pub mod ids;
pub mod policy;
pub mod ports;
pub mod query;
pub mod task;
mod text;
pub mod user;
pub mod webhook;

pub use error::RepoError;
pub use ids::{DeliveryId, EventId, FamilyId, TaskId, UserId, WebhookId};
