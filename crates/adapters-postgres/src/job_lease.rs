//! [`JobLease`] on `job_leases`: one upsert takes or renews a role, and only when it is free, expired or already
//! the caller's.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ConnectionTrait;
use taskflow_application::ports::JobLease;
use taskflow_domain::RepoError;
use uuid::Uuid;

use crate::error::bounded;
use crate::read::Sql;
use crate::storage::PgStorage;

#[async_trait]
impl JobLease for PgStorage {
    async fn try_hold(&self, name: &str, holder: Uuid, ttl: Duration, now: DateTime<Utc>) -> Result<bool, RepoError> {
        let until =
            TimeDelta::from_std(ttl).ok().and_then(|d| now.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut sql = Sql::default();
        let (name, holder, until, now) = (sql.bind(name), sql.bind(holder), sql.bind(until), sql.bind(now));
        let text = format!(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ({name}, {holder}, {until}) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < {now} \
             RETURNING holder"
        );
        let row = bounded(self.deadline, self.db.query_one_raw(sql.into_statement(text))).await?;
        Ok(row.is_some())
    }

    async fn release(&self, name: &str, holder: Uuid) -> Result<(), RepoError> {
        let mut sql = Sql::default();
        let (name, holder) = (sql.bind(name), sql.bind(holder));
        let text = format!("DELETE FROM job_leases WHERE name = {name} AND holder = {holder}");
        bounded(self.deadline, self.db.execute_raw(sql.into_statement(text))).await?;
        Ok(())
    }
}
