//! The schema, as sea-orm-migration migrations: plain SQL, one migration per file, each with a `down`.
//!
//! The decisions behind tables, constraints and indexes are recorded in `docs/adr/0003-postgres-schema-and-indexes.md`.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sea_orm_migration::prelude::*;
use taskflow_domain::RepoError;

use crate::error::map_db_err;

mod m20261125_000001_create_users;
mod m20261125_000002_create_tasks;
mod m20261125_000003_create_refresh_tokens;
mod m20261125_000004_create_idempotency_keys;
mod m20261125_000005_create_outbox_events;
mod m20261130_000006_create_user_tombstones;
mod m20261130_000007_event_log;
mod m20261130_000008_webhooks;
mod m20261130_000009_webhook_breakers;
mod m20261130_000010_event_feed;
mod m20261130_000011_claim_by_receiver;
mod m20261130_000012_hot_claims;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_tasks::Migration),
            Box::new(m20261125_000003_create_refresh_tokens::Migration),
            Box::new(m20261125_000004_create_idempotency_keys::Migration),
            Box::new(m20261125_000005_create_outbox_events::Migration),
            Box::new(m20261130_000006_create_user_tombstones::Migration),
            Box::new(m20261130_000007_event_log::Migration),
            Box::new(m20261130_000008_webhooks::Migration),
            Box::new(m20261130_000009_webhook_breakers::Migration),
            Box::new(m20261130_000010_event_feed::Migration),
            Box::new(m20261130_000011_claim_by_receiver::Migration),
            Box::new(m20261130_000012_hot_claims::Migration),
        ]
    }
}

/// The advisory-lock key that serialises migration runs of several instances starting at once.
const MIGRATION_LOCK_KEY: i64 = 0x7461_736b_666c_6f77; // "taskflow"

/// Applies every pending migration, holding a transaction-scoped advisory lock so that instances starting together
/// do not race (the second waits, then finds nothing to do).
///
/// # Errors
/// [`RepoError::Unavailable`] when the database cannot be reached; [`RepoError::Unexpected`] when a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), RepoError> {
    let txn = db.begin().await.map_err(map_db_err)?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).await.map_err(map_db_err)?;
    Migrator::up(&txn, None).await.map_err(map_db_err)?;
    txn.commit().await.map_err(map_db_err)
}

/// Runs a block of SQL statements (used by the migrations' `up` and `down`).
pub(crate) async fn run(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await.map(|_| ())
}
