//! [`UserTombstones`]: the recent rows of `user_tombstones`, written by the user delete in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use taskflow_domain::auth::UserTombstone;
use taskflow_domain::ports::UserTombstones;
use taskflow_domain::{RepoError, UserId};
use uuid::Uuid;

use crate::error::{bounded, map_db_err};
use crate::rows::stmt;
use crate::storage::PgStorage;

#[derive(Debug, FromQueryResult)]
struct TombstoneRow {
    user_id: Uuid,
    deleted_at: DateTime<Utc>,
}

#[async_trait]
impl UserTombstones for PgStorage {
    async fn deleted_since(&self, since: DateTime<Utc>) -> Result<Vec<UserTombstone>, RepoError> {
        // A range scan of user_tombstones_deleted_at_idx: only the last access-token lifetime's deletions.
        let sql = "SELECT user_id, deleted_at FROM user_tombstones WHERE deleted_at >= $1";
        let rows = bounded(self.deadline, self.db.query_all_raw(stmt(sql, [since.into()]))).await?;
        rows.iter()
            .map(|row| {
                let t = TombstoneRow::from_query_result(row, "").map_err(map_db_err)?;
                Ok(UserTombstone { user_id: UserId::from_uuid(t.user_id), deleted_at: t.deleted_at })
            })
            .collect()
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let sql = "DELETE FROM user_tombstones WHERE deleted_at < $1";
        let done = bounded(self.deadline, self.db.execute_raw(stmt(sql, [before.into()]))).await?;
        Ok(done.rows_affected())
    }
}
