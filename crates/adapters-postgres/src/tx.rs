//! The unit of work: one database transaction, whose handle is also the task, user and outbox repository.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use taskflow_domain::ports::{EventOutbox, TaskRepository, Transaction, UserRepository};
use taskflow_domain::user::User;
use taskflow_domain::{RepoError, UserId};

use crate::error::bounded;
use crate::rows::{USER_COLUMNS, stmt, user_from, user_values};

/// An open unit of work. Dropping it without [`Transaction::commit`] rolls back (SeaORM queues the `ROLLBACK`).
#[derive(Debug)]
pub struct PgTransaction {
    pub(crate) txn: DatabaseTransaction,
    /// How long any one statement may take, measured here: see [`bounded`].
    pub(crate) deadline: Duration,
}

impl PgTransaction {
    pub(crate) fn new(txn: DatabaseTransaction, deadline: Duration) -> Self {
        Self { txn, deadline }
    }
}

#[async_trait]
impl Transaction for PgTransaction {
    fn tasks(&self) -> &dyn TaskRepository {
        self
    }

    fn users(&self) -> &dyn UserRepository {
        self
    }

    fn outbox(&self) -> &dyn EventOutbox {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), RepoError> {
        bounded(self.deadline, self.txn.commit()).await
    }
}

#[async_trait]
impl UserRepository for PgTransaction {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let sql = format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        bounded(self.deadline, self.txn.execute_raw(stmt(sql, user_values(user)))).await?;
        Ok(())
    }

    async fn find_for_update(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE");
        let row = bounded(self.deadline, self.txn.query_one_raw(stmt(sql, [id.as_uuid().into()]))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn update(&self, user: &User) -> Result<(), RepoError> {
        let sql = "UPDATE users SET email = $2, name = $3, role = $4, password_hash = $5, created_at = $6, \
                   updated_at = $7 WHERE id = $1";
        let done = bounded(self.deadline, self.txn.execute_raw(stmt(sql, user_values(user)))).await?;
        // The user vanished under us: like a stale task version, the change cannot apply.
        if done.rows_affected() == 0 { Err(RepoError::Conflict) } else { Ok(()) }
    }

    async fn delete(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        // One statement: tasks and refresh tokens go with the user through ON DELETE CASCADE, and the tombstone is
        // written only when a user row was deleted (so the count of inserted tombstones says whether it existed).
        let sql = "WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id) \
                   INSERT INTO user_tombstones (user_id, deleted_at) SELECT id, $2 FROM gone \
                   ON CONFLICT (user_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at";
        let done = bounded(self.deadline, self.txn.execute_raw(stmt(sql, [id.as_uuid().into(), at.into()]))).await?;
        Ok(done.rows_affected() > 0)
    }
}
