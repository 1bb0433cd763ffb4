//! The unit of work: one database transaction, whose handle is also the task, user and outbox repository.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use taskflow_domain::ports::{EventOutbox, TaskRepository, Transaction, UserRepository};
use taskflow_domain::user::User;
use taskflow_domain::{RepoError, UserId};

use crate::error::bounded;
use crate::read::Sql;
use crate::rows::{build, select_users, user_from, user_values, users};

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

/// `INSERT INTO users` every column of `user`.
pub(crate) fn insert_user(user: &User) -> Result<sea_orm::sea_query::InsertStatement, RepoError> {
    let (columns, values): (Vec<_>, Vec<_>) = user_values(user).into_iter().unzip();
    Ok(Query::insert()
        .into_table(users::Entity)
        .columns(columns)
        .values(values.into_iter().map(Expr::val))
        .map_err(|e| RepoError::unexpected(e.to_string()))?
        .to_owned())
}

#[async_trait]
impl UserRepository for PgTransaction {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let insert = insert_user(user)?;
        bounded(self.deadline, self.txn.execute_raw(build(&insert))).await?;
        Ok(())
    }

    async fn find_for_update(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let select =
            select_users().and_where(Expr::col(users::Column::Id).eq(id.as_uuid())).lock(LockType::Update).to_owned();
        let row = bounded(self.deadline, self.txn.query_one_raw(build(&select))).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn update(&self, user: &User) -> Result<(), RepoError> {
        let changes = user_values(user)
            .into_iter()
            .filter(|(c, _)| !matches!(c, users::Column::Id))
            .map(|(c, v)| (c, Expr::val(v)));
        let update = Query::update()
            .table(users::Entity)
            .values(changes)
            .and_where(Expr::col(users::Column::Id).eq(user.id().as_uuid()))
            .to_owned();
        let done = bounded(self.deadline, self.txn.execute_raw(build(&update))).await?;
        // The user vanished under us: like a stale task version, the change cannot apply.
        if done.rows_affected() == 0 { Err(RepoError::Conflict) } else { Ok(()) }
    }

    async fn delete(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        // One statement: tasks and refresh tokens go with the user through ON DELETE CASCADE, and the tombstone is
        // written only when a user row was deleted (so the count of inserted tombstones says whether it existed).
        let mut sql = Sql::default();
        let (id, at) = (sql.bind(id.as_uuid()), sql.bind(at));
        let text = format!(
            "WITH gone AS (DELETE FROM users WHERE id = {id} RETURNING id) \
             INSERT INTO user_tombstones (user_id, deleted_at) SELECT id, {at} FROM gone \
             ON CONFLICT (user_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at"
        );
        let done = bounded(self.deadline, self.txn.execute_raw(sql.into_statement(text))).await?;
        Ok(done.rows_affected() > 0)
    }
}
