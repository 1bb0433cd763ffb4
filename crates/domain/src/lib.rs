//! TaskFlow's domain: the rules of tasks and users, with no I/O, no async runtime and no framework types.
//!
//! This is the crate a Rust program reads first when it embeds TaskFlow. It holds what is true whichever way
//! TaskFlow is run (behind HTTP, in process, on PostgreSQL or in memory): the entities and the values they are made
//! of, who may do what, the events every change records, and the ports through which the use cases reach the
//! outside world. The use cases themselves are in `taskflow-application`; a ready wiring over the in-memory store
//! is in `taskflow-embedded`.
//!
//! - [`task`] and [`user`]: entities and the value objects they are made of, which cannot hold invalid values.
//! - [`policy`]: who may see and change what ([`policy::Actor`] is the caller of every use case).
//! - [`events`]: the domain events every task change records.
//! - [`query`]: the read-side query and page shapes (built for a SQL database, not a `Vec`).
//! - [`auth`]: token claims and refresh-token families.
//! - [`breaker`]: the circuit breaker's pure state machine (Redis client, webhook receivers).
//! - [`webhook`]: webhook subscriptions, their deliveries and the rules of retrying them.
//! - [`ports`]: the traits the adapters implement.
//!
//! # Values and rules
//!
//! A value object is validated once, when it is parsed, and is then always valid; entities change only through
//! methods that apply the rules and say what changed. Time is always passed in (from the [`ports::Clock`]).
//!
//! ```
//! use taskflow_domain::chrono::{TimeZone, Utc};
//! use taskflow_domain::task::{NewTask, Task, TaskPatch, TaskPriority, TaskStatus, TaskTitle};
//! use taskflow_domain::{TaskId, UserId};
//!
//! let title = TaskTitle::parse("  Write the report  ").unwrap();
//! assert_eq!(title.as_str(), "Write the report");
//! assert!(TaskTitle::parse("   ").is_err());
//!
//! let now = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
//! let new = NewTask { priority: TaskPriority::High, ..NewTask::new(title) };
//! let (owner, id) = (UserId::from_uuid(uuid::Uuid::from_u128(1)), TaskId::from_uuid(uuid::Uuid::from_u128(2)));
//! let mut task = Task::new(new, owner, id, now);
//! assert_eq!((task.status(), task.version().get()), (TaskStatus::Pending, 1));
//!
//! // A change says what it changed, so the use case records the matching event (or none).
//! let patch = TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() };
//! let change = task.apply(patch, now);
//! assert!(change.completed);
//! assert_eq!(task.status().as_str(), "COMPLETED");
//! assert_eq!(task.version().get(), 2);
//! ```
//!
//! # Ports and their adapters
//!
//! A port is an object-safe `#[async_trait]` trait used as `Arc<dyn Port>`. Its `# Errors` section says which
//! [`RepoError`] variant an implementation must return; absence is `Ok(None)`.
//!
//! - [`ports::UnitOfWork`] and its [`ports::Transaction`] ([`ports::TaskRepository`], [`ports::UserRepository`],
//!   [`ports::EventOutbox`]): every write of a command, and its events. Implemented by `InMemoryStore`
//!   (`taskflow-adapters-memory`) and `PgStorage` (`taskflow-adapters-postgres`), as are all the storage ports:
//! - [`ports::TaskReadModel`], [`ports::UserReadModel`]: listings, counts, lookups (and the application's
//!   `CachedTaskReadModel` over a Redis cache);
//! - [`ports::EventLog`], [`ports::EventFeed`], [`ports::OutboxReader`]: task history, live events, the relay;
//! - [`ports::RefreshTokenStore`], [`ports::UserTombstones`]: refresh-token families, deleted users;
//! - [`ports::WebhookRepository`], [`ports::DeliveryQueue`], [`ports::OverdueScan`]: webhooks and deliveries.
//! - [`ports::PasswordHasher`]: `Argon2PasswordHasher`; [`ports::TokenIssuer`] (access tokens, refresh and
//!   webhook secrets): `PasetoTokenIssuer`; both in `taskflow-adapters-crypto`.
//! - [`ports::Clock`], [`ports::IdGenerator`]: `SystemClock`, `ManualClock`, `UuidV7Generator`,
//!   `SequentialIdGenerator`, in the application crate.
//!
//! The application adds a few ports of its own (rate limiter, cache store, idempotency keys, webhook sender,
//! circuit breakers): see `taskflow_application::ports`. The suites of `taskflow-contract-tests` check every
//! adapter of a port against the same expectations.
//!
//! # Guarantees an adapter must keep
//!
//! - **One unit of work per command.** Every write of a command, and the events it records, go through one
//!   [`ports::Transaction`]: they become visible together at [`ports::Transaction::commit`], and dropping the
//!   transaction rolls all of them back.
//! - **One event per change.** Every change to a task appends exactly one [`events::DomainEvent`] to the outbox
//!   of that same unit of work (none for a patch that changes nothing); the outbox is the permanent event log
//!   that the task history, webhooks and live events read.
//! - **One ordering.** Listings sort by the rules of [`query::compare`], ties broken by task id.
//!
//! # Writing an adapter
//!
//! Implement the trait, with `#[async_trait]` (re-exported here as [`async_trait`](macro@async_trait)) for the
//! asynchronous ports. A skeleton: a clock stuck at one instant, and a password hasher for a deployment whose
//! accounts never log in with a password (every hash is refused, every verification fails; the application's
//! `NoCredentials` is this, with a token issuer).
//!
//! ```
//! use taskflow_domain::chrono::{DateTime, Utc};
//! use taskflow_domain::ports::{Clock, PasswordHasher};
//! use taskflow_domain::user::{Password, PasswordHash};
//! use taskflow_domain::{RepoError, async_trait};
//!
//! struct FixedClock(DateTime<Utc>);
//!
//! impl Clock for FixedClock {
//!     fn now(&self) -> DateTime<Utc> {
//!         self.0
//!     }
//! }
//!
//! struct NoPasswords;
//!
//! #[async_trait]
//! impl PasswordHasher for NoPasswords {
//!     async fn hash(&self, _: &Password) -> Result<PasswordHash, RepoError> {
//!         Err(RepoError::unexpected("this deployment does not take passwords"))
//!     }
//!     async fn verify(&self, _: &Password, _: &PasswordHash) -> Result<bool, RepoError> {
//!         Ok(false)
//!     }
//!     async fn verify_dummy(&self, _: &Password) -> Result<(), RepoError> {
//!         Ok(())
//!     }
//! }
//!
//! let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(FixedClock(DateTime::UNIX_EPOCH));
//! assert_eq!(clock.now(), DateTime::UNIX_EPOCH);
//! let _hasher: std::sync::Arc<dyn PasswordHasher> = std::sync::Arc::new(NoPasswords);
//! ```
//!
//! Such a value then goes into the matching slot of `taskflow_application::Deps` (its builder swaps one port and
//! keeps the others).

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

/// The attribute every asynchronous port is implemented with, so that an adapter needs no other dependency.
pub use async_trait::async_trait;
/// Dates and durations, as the domain's types and ports take them.
pub use chrono;
pub use error::RepoError;
pub use ids::{DeliveryId, EventId, FamilyId, TaskId, UserId, WebhookId};
/// The UUIDs behind every id.
pub use uuid;
