//! [`UserTombstones`]: the deleted users, committed with their deletion.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use taskflow_domain::RepoError;
use taskflow_domain::auth::UserTombstone;
use taskflow_domain::ports::UserTombstones;

use super::InMemoryStore;
use crate::locks::{read, write};

#[async_trait]
impl UserTombstones for InMemoryStore {
    async fn deleted_since(&self, since: DateTime<Utc>) -> Result<Vec<UserTombstone>, RepoError> {
        let tables = read(&self.shared.tables);
        Ok(tables
            .tombstones
            .iter()
            .filter(|&(_, &deleted_at)| deleted_at >= since)
            .map(|(&user_id, &deleted_at)| UserTombstone { user_id, deleted_at })
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut tables = write(&self.shared.tables);
        let was = tables.tombstones.len();
        tables.tombstones.retain(|_, deleted_at| *deleted_at >= before);
        Ok(u64::try_from(was - tables.tombstones.len()).unwrap_or(u64::MAX))
    }
}
