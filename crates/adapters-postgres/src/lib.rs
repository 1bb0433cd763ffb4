//! PostgreSQL adapters for TaskFlow's ports, on SeaORM 2: statements built with sea-query over the table entities
//! of `rows` (the one mapping between a row and the domain's record), and SQL text only where sea-query cannot say
//! it (the listing and bulk writes), with placeholders taken as values are bound.
//!
//! - [`connect`] and [`PgSettings`]: the pool; [`PgStorage`]: the handle implementing every storage port (the
//!   webhook repository, the delivery queue, the overdue scan and the job lease included).
//! - [`PgWorkSignal`]: wakes background workers on `LISTEN taskflow_work`, on a dedicated connection.
//! - [`migrate`]: the schema (see `docs/adr/0003-postgres-schema-and-indexes.md`).
//! - [`PgSeeder`]: bulk demo data for `taskflow seed`.
//! - `testing` (feature `testing`): a fresh database per test.

mod breakers;
mod commands;
mod deliveries;
mod error;
mod feed;
mod held;
mod idempotency;
mod job_lease;
mod migration;
mod outbox;
mod overdue;
mod read;
mod refresh;
mod rows;
mod seed;
mod storage;
mod task_writes;
#[cfg(feature = "testing")]
pub mod testing;
mod tombstones;
mod tx;
mod wake;
mod webhooks;
mod work_signal;

pub use error::map_db_err;
pub use migration::{Migrator, migrate};
pub use outbox::{DELIVERY_CHANNEL, FEED_CHANNEL, WORK_CHANNEL};
pub use seed::{PgSeeder, SEED_BATCH};
pub use storage::{PgSettings, PgStorage, connect, connect_pool};
pub use tx::PgTransaction;
pub use wake::WAKE_SQL;
pub use work_signal::{PgChannelSignal, PgWorkSignal};
