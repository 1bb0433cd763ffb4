//! TaskFlow's use cases. Commands change state inside one unit of work and record their events; queries read
//! through the read models (CQRS). This crate knows the ports of `taskflow-domain`, never an adapter.
//!
//! It is what the HTTP adapter serves, and what a Rust program calls when it embeds TaskFlow in process: [`App`]
//! holds every use case over one [`Deps`] (the ports), and [`Deps::builder`] builds those from the adapters a
//! program brings, with a default for every port it does not. `taskflow-embedded` wires it all over the in-memory
//! adapters in one call (`taskflow_embedded::in_memory()`), and the domain (rules, values, ports) is re-exported
//! here as [`domain`].
//!
//! - [`auth`]: register, login, refresh, logout, me, and authenticating access tokens.
//! - [`users`]: list, get, update, delete users.
//! - [`tasks`]: create, get, update, delete, list, stats, batch operations and history of tasks.
//! - [`webhooks`]: webhook subscriptions, their deliveries and retrying them by hand.
//! - [`events`]: live event streams, fed from the published events of every instance.
//! - [`jobs`]: the background work: relaying events to webhooks, delivering them, the overdue scan.
//! - [`idempotency`], [`rate_limits`], [`health`], [`cache`]: the edge concerns of a server (replayed requests,
//!   limits, readiness, the shared read cache).
//! - [`breakers`]: the shared circuit breakers of webhook receivers (a port).
//! - [`clock`] and [`ids`]: the system clock and UUIDv7 ids, and their deterministic stand-ins for tests.
//!
//! # Twenty lines
//!
//! Register a user, create a task and list tasks, in process (imports and `main` included; this is
//! `examples/quickstart.rs` of `taskflow-embedded`):
//!
//! ```
//! use taskflow_embedded::application::auth::Registration;
//! use taskflow_embedded::application::tasks::{CreateTask, ListTasks};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let app = taskflow_embedded::in_memory();
//!     let registration = Registration::parse("ada@example.com", "correct horse battery", "Ada")?;
//!     let me = app.auth.register(registration).await?.actor();
//!     app.tasks.create_task(me, CreateTask::titled("Write the embedding guide")?).await?;
//!     let page = app.tasks.list_tasks(me, ListTasks::default()).await?;
//!     for view in &page.items {
//!         println!("{} {} {}", view.task.status().as_str(), view.task.priority().as_str(), view.task.title());
//!     }
//!     assert_eq!(page.items.len(), 1);
//!     Ok(())
//! }
//! ```
//!
//! Every use case takes the caller as a [`domain::policy::Actor`]: from a session ([`auth::Session::actor`]),
//! from a user ([`domain::policy::Actor::of`]: a program that authenticates its users itself provisions their
//! accounts with [`users::UserService::provision_user`], no password needed), or from an access token
//! ([`App::actor`]). Requests with many
//! optional members have defaults ([`tasks::ListTasks::default`]: every visible task, newest first, the first
//! page of 20) or constructors ([`tasks::CreateTask::titled`], [`auth::Registration::parse`]); their errors are
//! [`AppError`]s, which name the invalid members.
//!
//! # Ports and adapters
//!
//! The ports of the domain (storage, units of work, hashing, tokens, clock, ids: see
//! [`domain`](taskflow_domain#ports-and-their-adapters)), and a few of this crate's own in [`ports`] and
//! [`breakers`]:
//!
//! - the storage ports ([`DepsBuilder::store`] sets them all): `InMemoryStore` (`taskflow-adapters-memory`),
//!   `PgStorage` (`taskflow-adapters-postgres`);
//! - `PasswordHasher`, `TokenIssuer`: `Argon2PasswordHasher`, `PasetoTokenIssuer` (`taskflow-adapters-crypto`);
//! - [`ports::RateLimiter`], [`ports::CacheStore`], [`ports::IdempotencyStore`]: `InMemoryRateLimiter`,
//!   `InMemoryCacheStore`, `InMemoryStore`; Redis (`taskflow-adapters-redis`) and PostgreSQL when served;
//! - [`ports::WebhookSender`]: [`webhooks::NoDelivery`] (the default: kept, never sent), `HttpWebhookSender`
//!   (`taskflow-adapters-webhooks`);
//! - [`breakers::BreakerStore`]: `InMemoryBreakers`, `PgStorage` ([`webhooks::NoDelivery`] by default);
//! - `Clock`, `IdGenerator`: [`clock::SystemClock`], [`ids::UuidV7Generator`] (the defaults), and for tests
//!   [`clock::ManualClock`], [`ids::SequentialIdGenerator`].
//!
//! # Guarantees
//!
//! - **One unit of work per command.** A command's writes and the events it records are committed together or
//!   not at all; a failure part-way leaves nothing behind. Queries never open one.
//! - **One event per change.** Every change to a task records exactly one event (`task.created`, `task.updated`,
//!   `task.completed`, `task.deleted`) with the task's new version, in the same unit of work; a change that
//!   changes nothing records none and keeps the version. The events are the task history and feed webhooks and
//!   live streams.
//! - **Authorization in the use case.** Each one applies the domain policy to its [`domain::policy::Actor`]:
//!   another user's task is absent, not forbidden.
//! - **Caches after commit.** The shared read cache is invalidated after each command commits.
//!
//! # Swapping one port
//!
//! A harness keeps the whole wiring and replaces one port: here a unit of work whose storage is down, with struct
//! update syntax on a built [`Deps`] (the builder's setters do the same before the build).
//!
//! ```
//! use std::sync::Arc;
//! use taskflow_application::domain::ports::{Transaction, UnitOfWork};
//! use taskflow_application::domain::{RepoError, async_trait};
//! use taskflow_application::tasks::{CreateTask, ListTasks};
//! use taskflow_application::{App, AppError, Deps, auth::Registration};
//!
//! struct Down;
//!
//! #[async_trait]
//! impl UnitOfWork for Down {
//!     async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError> {
//!         Err(RepoError::unavailable("connection refused"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = taskflow_embedded::in_memory();
//! let me = app.auth.register(Registration::parse("ada@example.com", "correct horse", "Ada")?).await?.actor();
//! let down = App::new(Deps { uow: Arc::new(Down), ..app.deps.clone() });
//!
//! let refused = down.tasks.create_task(me, CreateTask::titled("Lost")?).await;
//! assert!(matches!(refused, Err(AppError::Unavailable(_))));
//! // Reads do not need a unit of work, and nothing was half-written.
//! assert!(down.tasks.list_tasks(me, ListTasks::default()).await?.items.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # A custom adapter
//!
//! A skeleton of an adapter of a port with a transaction: a unit of work that wraps another and keeps the events
//! of every unit that commits (a recording outbox). The rolled-back ones leave nothing.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use taskflow_application::domain::events::{DomainEvent, TaskEventKind};
//! use taskflow_application::domain::ports::{EventOutbox, TaskRepository, Transaction, UnitOfWork, UserRepository};
//! use taskflow_application::domain::task::{TaskPatch, TaskStatus};
//! use taskflow_application::domain::{RepoError, async_trait};
//! use taskflow_application::tasks::CreateTask;
//! use taskflow_embedded::InMemoryStore;
//!
//! /// Units of work of `inner`, whose committed events are appended to `committed`.
//! struct Recording {
//!     inner: Arc<dyn UnitOfWork>,
//!     committed: Arc<Mutex<Vec<DomainEvent>>>,
//! }
//!
//! struct RecordingTx {
//!     inner: Box<dyn Transaction>,
//!     staged: Mutex<Vec<DomainEvent>>,
//!     committed: Arc<Mutex<Vec<DomainEvent>>>,
//! }
//!
//! #[async_trait]
//! impl UnitOfWork for Recording {
//!     async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError> {
//!         let inner = self.inner.begin().await?;
//!         Ok(Box::new(RecordingTx { inner, staged: Mutex::default(), committed: self.committed.clone() }))
//!     }
//! }
//!
//! #[async_trait]
//! impl Transaction for RecordingTx {
//!     fn tasks(&self) -> &dyn TaskRepository {
//!         self.inner.tasks()
//!     }
//!     fn users(&self) -> &dyn UserRepository {
//!         self.inner.users()
//!     }
//!     fn outbox(&self) -> &dyn EventOutbox {
//!         self
//!     }
//!     async fn commit(self: Box<Self>) -> Result<(), RepoError> {
//!         self.inner.commit().await?;
//!         self.committed.lock().unwrap().extend(self.staged.into_inner().unwrap());
//!         Ok(())
//!     }
//! }
//!
//! #[async_trait]
//! impl EventOutbox for RecordingTx {
//!     async fn append(&self, events: &[DomainEvent]) -> Result<(), RepoError> {
//!         self.inner.outbox().append(events).await?;
//!         self.staged.lock().unwrap().extend_from_slice(events);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = InMemoryStore::new();
//! let committed = Arc::new(Mutex::new(Vec::new()));
//! let recording = Recording { inner: Arc::new(store.clone()), committed: committed.clone() };
//! let app = taskflow_embedded::in_memory_deps(&store).uow(Arc::new(recording)).build_app()?;
//!
//! let reg = taskflow_application::auth::Registration::parse("ada@example.com", "correct horse", "Ada")?;
//! let me = app.auth.register(reg).await?.actor();
//! let task = app.tasks.create_task(me, CreateTask::titled("Write the report")?).await?.task;
//! let done = TaskPatch { status: Some(TaskStatus::Completed), ..TaskPatch::default() };
//! app.tasks.update_task(me, task.id(), done.clone(), None).await?;
//! app.tasks.update_task(me, task.id(), done, None).await?; // changes nothing: no event
//!
//! let kinds: Vec<_> = committed.lock().unwrap().iter().map(|e| (e.kind, e.task.version().get())).collect();
//! assert_eq!(kinds, [(TaskEventKind::Created, 1), (TaskEventKind::Completed, 2)]);
//! # Ok(())
//! # }
//! ```

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
