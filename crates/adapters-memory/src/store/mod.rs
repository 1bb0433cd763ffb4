//! [`InMemoryStore`]: the whole storage side in process memory.
//!
//! Concurrency model, mirroring what a database gives the use cases:
//! - committed state lives in one [`RwLock`]ed [`Tables`]; readers take the read lock for the length of one query
//!   and so always see whole commits;
//! - units of work are serialized by an async mutex whose owned guard the open [`InMemoryTransaction`] holds, so a
//!   read-modify-write with a version check cannot race with another; they stage their writes and take the write
//!   lock only for the moment of `commit`. Readers therefore never wait for an open unit of work.
//!
//! A task holding a unit of work must not open a second one (it would wait for itself), as with row locks.

mod deliveries;
mod hooks;
mod idempotency;
mod jobs;
mod listing;
mod overdue;
mod read;
mod refresh;
mod tables;
mod tombstones;
mod transaction;
mod tx_tasks;
mod tx_users;
mod webhooks;

use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use taskflow_domain::RepoError;
use taskflow_domain::ports::Clock;
use taskflow_domain::ports::{Transaction, UnitOfWork};

use crate::time::Elapsed;
use idempotency::IdempotencyTable;
pub use jobs::InMemorySignal;
use refresh::RefreshTable;
use tables::Tables;
pub use transaction::InMemoryTransaction;

/// Users, tasks, the outbox, refresh tokens, tombstones of deleted users, idempotency keys, webhooks and their
/// delivery queue, in memory. Clones share the same data.
#[derive(Clone, Default)]
pub struct InMemoryStore {
    shared: Arc<Shared>,
}

/// The state behind every clone of one store.
#[derive(Default)]
pub(crate) struct Shared {
    /// The committed users, tasks, outbox and tombstones.
    pub(crate) tables: RwLock<Tables>,
    /// Held by the open unit of work, if any.
    pub(crate) writer: Arc<tokio::sync::Mutex<()>>,
    pub(crate) refresh: Mutex<RefreshTable>,
    pub(crate) idempotency: Mutex<IdempotencyTable>,
    pub(crate) time: Elapsed,
    /// Wakes the workers' relays: signalled when a commit (or the overdue scan) appends events.
    pub(crate) work: tokio::sync::Notify,
    /// Wakes the workers' senders: signalled when a relay makes deliveries, or a release or retry makes them due.
    pub(crate) deliveries: tokio::sync::Notify,
    /// Wakes live event streams: signalled when a relay publishes events.
    pub(crate) feed: tokio::sync::Notify,
    /// The named roles of [`taskflow_application::ports::JobLease`].
    pub(crate) job_leases: Mutex<jobs::LeaseTable>,
}

impl InMemoryStore {
    /// An empty store whose idempotency keys expire on the system's clock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose idempotency keys expire on `clock` (a manual one in tests).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let time = Elapsed::on(clock);
        Self { shared: Arc::new(Shared { time, ..Shared::default() }) }
    }
}

impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = crate::locks::read(&self.shared.tables);
        f.debug_struct("InMemoryStore")
            .field("users", &tables.users.len())
            .field("tasks", &tables.tasks.len())
            .field("events", &tables.outbox.len())
            .field("pending_events", &tables.undispatched.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl UnitOfWork for InMemoryStore {
    async fn begin(&self) -> Result<Box<dyn Transaction>, RepoError> {
        let guard = Arc::clone(&self.shared.writer).lock_owned().await;
        Ok(Box::new(InMemoryTransaction::new(Arc::clone(&self.shared), guard)))
    }
}
