//! Port contract suites: the behaviour every storage (tombstones included), webhook and delivery-queue, overdue-scan,
//! job-lease, rate-limiter, idempotency and cache adapter must share.
//!
//! The in-memory, PostgreSQL and Redis adapters all run these suites unchanged, so the fakes used in tests stay
//! honest and the real adapters agree with them. Each suite is a macro that expands, at the call site, into one
//! `#[tokio::test]` per case, so a failure names the case:
//!
//! ```ignore
//! async fn fresh_storage() -> taskflow_contract_tests::StoragePorts { /* fresh, empty storage */ }
//! taskflow_contract_tests::storage_contract_tests!(fresh_storage);
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.

use std::sync::Arc;

use taskflow_application::ports::JobLease;
use taskflow_domain::ports::{
    DeliveryQueue, EventFeed, EventLog, OutboxReader, OverdueScan, RefreshTokenStore, TaskReadModel, UnitOfWork,
    UserReadModel, UserTombstones, WebhookRepository,
};

pub mod breakers;
pub mod cache;
pub mod deliveries;
pub mod feed;
pub mod fixtures;
pub mod idempotency;
pub mod job_lease;
pub mod overdue;
pub mod rate_limiter;
pub mod refresh_tokens;
pub mod storage;
pub mod tombstones;
pub mod webhooks;

mod macros;

/// Every storage port, backed by one and the same store (what one committed write changes, every reader sees).
#[derive(Clone)]
pub struct StoragePorts {
    /// Opens units of work.
    pub uow: Arc<dyn UnitOfWork>,
    /// The task read side.
    pub tasks: Arc<dyn TaskReadModel>,
    /// The user read side.
    pub users: Arc<dyn UserReadModel>,
    /// The outbox delivery side.
    pub outbox: Arc<dyn OutboxReader>,
    /// The event log, read by task.
    pub events: Arc<dyn EventLog>,
    /// Refresh-token families.
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// Tombstones of deleted users.
    pub tombstones: Arc<dyn UserTombstones>,
}

/// The webhook side of one store: its ports, over the same data as `storage` (events committed through
/// `storage.uow` are what `deliveries` relays).
#[derive(Clone)]
pub struct QueuePorts {
    /// The storage ports of the same store.
    pub storage: StoragePorts,
    /// Webhook subscriptions.
    pub webhooks: Arc<dyn WebhookRepository>,
    /// The delivery queue.
    pub deliveries: Arc<dyn DeliveryQueue>,
    /// The overdue scan.
    pub overdue: Arc<dyn OverdueScan>,
    /// The feed of published events.
    pub feed: Arc<dyn EventFeed>,
    /// Named roles with a lease.
    pub job_lease: Arc<dyn JobLease>,
}
