//! [`BreakerStore`] on `webhook_breakers`: the breakers of webhook receivers, shared by every instance.
//!
//! Each call applies one transition of the domain's machine ([`taskflow_domain::breaker`]) by **compare-and-set on
//! the row's `version`**, in single statements and without a transaction: read the row, compute the next state in
//! Rust, then `UPDATE ... WHERE version = <the version read>` (or `INSERT ... ON CONFLICT DO NOTHING` for a receiver
//! without a row). A write that matches no row lost a race with another instance, and the call starts again from
//! a fresh read; every lost round means another writer won, so the calls always progress. The machine is written
//! once, in the domain, rather than a second time in SQL; no lock is held between statements, and a call cancelled
//! half-way has either written its state or not (a probe granted to a caller that went away is replaced after its
//! deadline). Rows are never deleted (a reset writes a closed state), so a version is never reused.
//!
//! Calls that change nothing do not write: a permit on a closed breaker (the usual case) is one `SELECT` of at
//! most one row, and a receiver never seen has no row until its first failure.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use taskflow_application::breakers::BreakerStore;
use taskflow_domain::breaker::{BreakerParts, BreakerPhase, BreakerPolicy, BreakerState, CallKind, Permit};
use taskflow_domain::{RepoError, WebhookId};

use crate::error::{bounded, corrupt, map_db_err};
use crate::rows::stmt;
use crate::storage::PgStorage;

/// How many compare-and-set rounds one call may lose before it gives up with [`RepoError::Conflict`]. Each lost
/// round is another writer's win on the same receiver, whose writers the sender bounds; this is far above that.
const MAX_ROUNDS: usize = 64;

#[derive(Debug, FromQueryResult)]
struct BreakerRow {
    phase: String,
    failures: i32,
    ends_at: Option<DateTime<Utc>>,
    version: i64,
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    n: i64,
}

impl BreakerRow {
    fn state(&self) -> Result<BreakerState, RepoError> {
        let phase: BreakerPhase = self.phase.parse().map_err(|e| corrupt("breaker phase", e))?;
        let failures = u32::try_from(self.failures).map_err(|e| corrupt("breaker failures", e))?;
        BreakerState::from_parts(BreakerParts { phase, failures, at: self.ends_at })
            .map_err(|e| corrupt("breaker state", e))
    }
}

impl PgStorage {
    /// The receiver's state and the row's version; closed and `None` when there is no row.
    async fn load_breaker(&self, receiver: WebhookId) -> Result<(BreakerState, Option<i64>), RepoError> {
        let sql = "SELECT phase, failures, ends_at, version FROM webhook_breakers WHERE webhook_id = $1";
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [receiver.as_uuid().into()]))).await?;
        match row {
            None => Ok((BreakerState::CLOSED, None)),
            Some(row) => {
                let row = BreakerRow::from_query_result(&row, "").map_err(map_db_err)?;
                Ok((row.state()?, Some(row.version)))
            }
        }
    }

    /// Writes `next` if the row is still at `version` (or still absent); returns whether it did.
    async fn store_breaker(
        &self,
        receiver: WebhookId,
        version: Option<i64>,
        next: BreakerState,
    ) -> Result<bool, RepoError> {
        let parts = next.to_parts();
        let failures = i32::try_from(parts.failures).unwrap_or(i32::MAX);
        let mut values = vec![receiver.as_uuid().into(), parts.phase.as_str().into(), failures.into(), parts.at.into()];
        let sql = if let Some(version) = version {
            values.push(version.into());
            "UPDATE webhook_breakers SET phase = $2, failures = $3, ends_at = $4, version = version + 1, \
             updated_at = now() WHERE webhook_id = $1 AND version = $5"
        } else {
            "INSERT INTO webhook_breakers (webhook_id, phase, failures, ends_at, version) \
             VALUES ($1, $2, $3, $4, 1) ON CONFLICT (webhook_id) DO NOTHING"
        };
        let done = bounded(self.deadline, self.db.execute_raw(stmt(sql, values))).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Applies one transition to the receiver's breaker by compare-and-set, and returns its output.
    async fn transition<T>(
        &self,
        receiver: WebhookId,
        step: impl Fn(BreakerState) -> (T, BreakerState) + Send,
    ) -> Result<T, RepoError> {
        for _ in 0..MAX_ROUNDS {
            let (current, version) = self.load_breaker(receiver).await?;
            let (out, next) = step(current);
            if next == current || self.store_breaker(receiver, version, next).await? {
                return Ok(out);
            }
        }
        Err(RepoError::Conflict)
    }
}

#[async_trait]
impl BreakerStore for PgStorage {
    #[tracing::instrument(name = "pg.breakers.permit", skip_all, fields(webhook_id = %receiver))]
    async fn permit(
        &self,
        receiver: WebhookId,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<Permit, RepoError> {
        self.transition(receiver, |s| s.permit(policy, now)).await
    }

    #[tracing::instrument(name = "pg.breakers.record", skip_all, fields(webhook_id = %receiver, success))]
    async fn record(
        &self,
        receiver: WebhookId,
        kind: CallKind,
        success: bool,
        policy: &BreakerPolicy,
        now: DateTime<Utc>,
    ) -> Result<BreakerState, RepoError> {
        self.transition(receiver, |s| {
            let next = if success { s.on_success(kind) } else { s.on_failure(kind, policy, now) };
            (next, next)
        })
        .await
    }

    async fn state(&self, receiver: WebhookId) -> Result<BreakerState, RepoError> {
        Ok(self.load_breaker(receiver).await?.0)
    }

    #[tracing::instrument(name = "pg.breakers.reset", skip_all, fields(webhook_id = %receiver))]
    async fn reset(&self, receiver: WebhookId) -> Result<(), RepoError> {
        // A closed row rather than no row, so that a writer holding an older version cannot match a new row.
        let sql = "UPDATE webhook_breakers SET phase = 'closed', failures = 0, ends_at = NULL, \
                   version = version + 1, updated_at = now() WHERE webhook_id = $1";
        bounded(self.deadline, self.db.execute_raw(stmt(sql, [receiver.as_uuid().into()]))).await?;
        Ok(())
    }

    async fn open_count(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        // Through webhook_breakers_not_closed_idx: only the rows that are not closed.
        let sql = "SELECT count(*) AS n FROM webhook_breakers WHERE phase <> 'closed' AND ends_at > $1";
        let row = bounded(self.deadline, self.db.query_one_raw(stmt(sql, [now.into()]))).await?;
        let n = match row {
            Some(row) => CountRow::from_query_result(&row, "").map_err(map_db_err)?.n,
            None => 0,
        };
        u64::try_from(n).map_err(|e| corrupt("breaker count", e))
    }
}
