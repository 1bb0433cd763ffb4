//! Port contract suites: the behaviour every storage (tombstones included), rate-limiter, idempotency and cache
//! adapter must share.
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

use taskflow_domain::ports::{
    OutboxReader, RefreshTokenStore, TaskReadModel, UnitOfWork, UserReadModel, UserTombstones,
};

pub mod breakers;
pub mod cache;
pub mod fixtures;
pub mod idempotency;
pub mod rate_limiter;
pub mod refresh_tokens;
pub mod storage;
pub mod tombstones;

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
    /// Refresh-token families.
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// Tombstones of deleted users.
    pub tombstones: Arc<dyn UserTombstones>,
}
